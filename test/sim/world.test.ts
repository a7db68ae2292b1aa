// The simulated world's own mechanics: the `load` effect answered after simulated latency (with a
// fake core that emits it, as the peer core soon will), crash and restart of any process with the
// same ports, bind conflicts, and partitions.
import { describe, it, expect } from 'vitest';
import { DEFAULT_LIVENESS } from '../../src/manager/liveness.js';
import { World, type WorldOptions } from '../../src/sim/world.js';
import { PeerCore, type PeerInput, type PeerEffect } from '../../src/peer/core.js';
import type { Loaded } from '../../src/runtime/effects.js';
import { toLine } from '../../src/data/line.js';
import { smallDataset, LOSSY_RETRY } from '../../src/sim/scenario.js';

const { records } = smallDataset(1996, 300, 3);
const options = (extra: Partial<WorldOptions> = {}): WorldOptions => ({
  seed: 1, faults: { loss: 0, dup: 0, reorder: 0 },
  manager: { waitTimeoutMs: 5_000, retry: LOSSY_RETRY },
  peer: { retry: { rtoMs: 50, minRtoMs: 20, maxRtoMs: 200, maxTries: 5 }, maxPayload: 1400, window: 16, queryTimeoutMs: 5_000 },
  datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'sim' }]]),
  ...extra,
});
const printed = (lines: string[], prefix: string) => () => lines.some((l) => l.startsWith(prefix));

/** Emits `load` for the console line `load YYYY` and prints what comes back: the future peer core's path. */
class LoadingCore extends PeerCore {
  readonly got: { at: number; input: Loaded }[] = [];
  override handle(now: number, input: PeerInput | Loaded): PeerEffect[] {
    if (input.kind === 'loaded') {
      this.got.push({ at: now, input });
      return [{ kind: 'print', text: typeof input.data === 'string' ? `no data: ${input.data}` : `loaded ${input.data.lines.length} records` }];
    }
    if (input.kind === 'line' && input.text.startsWith('load ')) return [{ kind: 'load', year: Number(input.text.slice(5)) }];
    return super.handle(now, input);
  }
}

describe('the world', () => {
  it('answers a load effect later, after simulated latency, as a `loaded` input; a peer without the file gets the one-line error', () => {
    const w = new World(options({ makePeerCore: (...a) => new LoadingCore(...a) }));
    const has = w.addPeer('peer1', 5000, 5001);
    const lacks = w.addPeer('peer2', 5002, 5003, new Map());
    w.type('peer1', 'load 1996');
    w.type('peer2', 'load 1996');
    expect(w.runUntil(() => (has.core as LoadingCore).got.length + (lacks.core as LoadingCore).got.length === 2, 1_000)).toBe(true);
    expect(has.prints).toEqual(['loaded 300 records']);
    expect(lacks.prints).toEqual(['no data: details-1996.csv is not in the data directory']);
    for (const p of [has, lacks]) expect((p.core as LoadingCore).got[0]!.at).toBeGreaterThanOrEqual(1);
  });

  it('a crashed peer restarts as a fresh core on the same ports: it binds again, and registers again under its old name once the old one is silent (--detect)', () => {
    const o = options();
    const w = new World({ ...o, manager: { ...o.manager, liveness: DEFAULT_LIVENESS } });
    const p = w.addPeer('peer1', 5000, 5001);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(printed(p.prints, 'register: SUCCESS'))).toBe(true);
    w.settle(1_000); // heartbeats flow
    w.kill('peer1');
    w.restart('peer1');
    expect(w.peer('peer1').core.me).toBeNull();
    // The old process has gone silent: suspected, not yet declared dead (a peer heard from only at
    // register is given graceMs before its first heartbeat counts).
    w.settle(DEFAULT_LIVENESS.graceMs - 1_000 + DEFAULT_LIVENESS.suspectMs + 100);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(() => w.peer('peer1').core.idle && p.prints.some((l, i) => i > 0 && l.startsWith('register: ')))).toBe(true);
    expect(p.prints.filter((l) => l.startsWith('register: ')).at(-1), [...w.managerPrints, '|', ...p.prints].join('\n')).toMatch(/^register: SUCCESS — peer1 registered/);
  });

  it('ports held by another process cannot be bound (EADDRINUSE)', () => {
    const w = new World(options());
    const a = w.addPeer('peer1', 5000, 5001);
    const b = w.addPeer('peer2', 5002, 5003);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(printed(a.prints, 'register: SUCCESS'))).toBe(true);
    w.type('peer2', 'register peer2 127.0.0.1 5002 5001');
    expect(w.runUntil(printed(b.prints, 'register: cannot use those ports'))).toBe(true);
    expect(b.prints.at(-1)).toContain('127.0.0.1:5001 is already in use (EADDRINUSE)');
  });

  it('a restarted manager binds its port again and takes back its saved state (PROTOCOL §4.10)', () => {
    const w = new World(options());
    const p = w.addPeer('peer1', 5000, 5001);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(printed(p.prints, 'register: SUCCESS'))).toBe(true);
    const before = w.manager;
    w.kill('manager');
    expect(w.managerAlive).toBe(false);
    w.restart('manager');
    expect(w.manager).not.toBe(before);
    expect(w.managerPrints.at(-1)).toBe('manager: restored 1 peer and no DHT from the saved state');
    expect([...w.manager.peers.keys()]).toEqual(['peer1']);
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(printed(p.prints, 'setup-dht: FAILURE NOT_ENOUGH_PEERS'))).toBe(true);
  });

  it('a manager without saved state (stateless) knows nobody after a restart: the peer is stranded', () => {
    const w = new World(options({ stateless: true }));
    const p = w.addPeer('peer1', 5000, 5001);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(printed(p.prints, 'register: SUCCESS'))).toBe(true);
    w.restart('manager');
    expect(w.manager.peers.size).toBe(0);
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(printed(p.prints, 'setup-dht: FAILURE NOT_REGISTERED'))).toBe(true);
  });

  it('a partition cuts a node off both ways until it heals', () => {
    const w = new World(options());
    const p = w.addPeer('peer1', 5000, 5001);
    w.network.partition(['peer1']);
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(() => p.core.idle && p.prints.length > 0, 60_000)).toBe(true);
    expect(p.prints.at(-1)).toMatch(/^register: FAILURE NO_RESPONSE/);
    expect(w.cut).toBeGreaterThan(0);
    w.network.heal();
    w.type('peer1', 'register peer1 127.0.0.1 5000 5001');
    expect(w.runUntil(printed(p.prints, 'register: SUCCESS'))).toBe(true);
  });
});
