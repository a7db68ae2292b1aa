// Behaviours of the peer core that the operation objects make explicit: data loading as an
// effect, acknowledgements never waiting for a load, console answers, and the wording of counts.
import { describe, it, expect } from 'vitest';
import { eventIdOfLine, toLine } from '../../../src/data/line.js';
import { nodeOf, positionOf } from '../../../src/data/hash.js';
import { generateSynthetic } from '../../../src/data/synthetic.js';
import type { PeerEffect } from '../../../src/peer/core.js';
import { P1, P3, answer, feed, fixture, fromPeer, prints, registered, type } from './fixtures.js';

const sends = (effects: PeerEffect[]) => effects.flatMap((e) => (e.kind === 'send' ? [e.msg] : []));
const lines = (n: number) => generateSynthetic(1996, n, 3).map(toLine);

describe('peer: data loading is an effect', () => {
  it('setup-dht loads first; when the file cannot be read it prints one line and sends nothing', () => {
    const core = registered();
    const effects = type(core, 'setup-dht peer2 3 1996');
    expect(effects).toEqual([{ kind: 'load', year: 1996 }]);
    expect(core.idle).toBe(false);
    const after = feed(core, { kind: 'loaded', year: 1996, data: 'no data file for 1996 in /nowhere' });
    expect(prints(after)).toEqual(['setup-dht: no data file for 1996 in /nowhere (nothing was sent)']);
    expect(sends(after)).toEqual([]);
    expect(core.idle).toBe(true);
  });

  it('setup-dht with the data sends the request, then distributes from the kept data without loading again', () => {
    const core = registered();
    type(core, 'setup-dht peer2 3 1996');
    const sent = feed(core, { kind: 'loaded', year: 1996, data: { year: 1996, lines: lines(200), source: 'test' } });
    expect(sends(sent).map((m) => m.t)).toEqual(['cmd']);
    const granted = answer(core, sent, { peers: [{ ...P1, name: 'peer2', port: 5202 }, P1, P3], dht: 1 });
    expect(granted.some((e) => e.kind === 'load')).toBe(false);
    expect(sends(granted).map((m) => m.t)).toEqual(['set-id', 'set-id']);
  });

  it('a new leader acknowledges rebuild-dht at once and loads afterwards; a replay is refused', () => {
    const fx = fixture('leader');
    fx.core.onTimeout(0);
    const taken = fromPeer(fx.core, P1, { t: 'rebuild-dht', year: 1996, origin: P1 });
    expect(taken.some((e) => e.kind === 'load')).toBe(true);
    // The ack goes out with the shell's next flush, before the load is answered.
    expect(fx.core.nextDeadline()).toBe(0);
    expect(sends(fx.core.onTimeout(0)).map((m) => m.t)).toEqual(['ack']);
    const replay = fromPeer(fx.core, P1, { t: 'rebuild-dht', year: 1996, origin: P1 });
    expect(prints(replay).join()).toMatch(/did not renumber this ring/);
  });

  it('a rebuild leader without the file tells the peer that left (rebuild-done, not ok)', () => {
    const fx = fixture('leader');
    fromPeer(fx.core, P1, { t: 'rebuild-dht', year: 1996, origin: P1 });
    const failed = feed(fx.core, { kind: 'loaded', year: 1996, data: 'details-1996.csv is not in the data directory' });
    expect(sends(failed)).toMatchObject([{ t: 'rebuild-done', ok: false }]);
    expect(fx.core.describe()).toBe('leader');
  });
});

describe('peer: console', () => {
  it('status and help are answered at once while a command waits for the manager', () => {
    const core = registered();
    type(core, 'leave-dht peer2');
    const status = type(core, 'status');
    expect(prints(status)).toEqual(['status: peer2 at 127.0.0.1 m-port 5201 p-port 5202; Free; 0 records held']);
    expect(status.some((e) => e.kind === 'process-status')).toBe(true);
    expect(prints(type(core, 'help'))[0]).toBe('commands:');
  });

  it('a command naming another peer is refused locally with one line; a case slip gets a hint', () => {
    const core = registered();
    const other = type(core, 'leave-dht peer3');
    expect(sends(other)).toEqual([]);
    expect(prints(other)).toEqual(["leave-dht: this peer is 'peer2'; a peer sends requests for itself only, not for 'peer3' (nothing was sent)"]);
    const cased = prints(type(core, 'query-dht Peer2 5'));
    expect(cased).toHaveLength(1);
    expect(cased[0]).toMatch(/case-sensitive/);
    expect(core.idle).toBe(true);
  });

  it('counts are printed in the singular when there is one', () => {
    const fx = fixture('member');
    expect(fx.core.statusLines()[0]).toMatch(/; 0 records held$/);
    // The member is node 1 of 3 with s = 7: a record at a position of node 1 stays there.
    const rec = lines(200).find((l) => nodeOf(positionOf(eventIdOfLine(l), 7), 3) === 1)!;
    fromPeer(fx.core, P1, { t: 'store', epoch: fx.epoch, to: 1, recs: rec });
    expect(fx.core.statusLines()[0]).toMatch(/; 1 record held$/);
  });
});

describe('peer: store summary says only what happened', () => {
  it('the leader does not claim to have received anything', () => {
    const core = registered();
    type(core, 'setup-dht peer2 3 1996');
    const sent = feed(core, { kind: 'loaded', year: 1996, data: { year: 1996, lines: lines(300), source: 'test' } });
    const ring = [{ ...P1, name: 'peer2', port: 5202 }, P1, P3];
    let effects = answer(core, sent, { peers: ring, dht: 1 });
    const out: string[] = [];
    // Acknowledge every set-id and store batch until store-end leaves.
    for (let round = 0; round < 200; round++) {
      out.push(...prints(effects));
      const pending = effects.flatMap((e) => (e.kind === 'send' && e.msg.t !== 'ack' && e.msg.t !== 'cmd' ? [e] : []));
      if (pending.length === 0 || pending.some((e) => e.msg.t === 'store-end')) break;
      effects = [];
      for (const e of pending) effects.push(...feed(core, { kind: 'datagram', via: 'p', from: e.to, msg: { t: 'ack', rid: e.msg.rid } }));
    }
    const summary = out.find((l) => l.startsWith('store: '));
    expect(summary).toMatch(/^store: kept \d+, forwarded \d+ in \d+ batch(es)? to peer1$/);
  });
});

describe('peer: a manager that no longer knows this peer', () => {
  it('NOT_REGISTERED without a token (it declared this peer dead, or lost its state): the peer forgets its registration and says so', () => {
    const core = registered();
    const asked = type(core, 'query-dht peer2 5536849');
    const told = answer(core, asked, { code: 'FAILURE', reason: 'NOT_REGISTERED', text: 'peer2 is not registered', tok: undefined });
    expect(prints(told)).toContain('query-dht: the manager no longer knows peer2; this peer is unregistered now — register again');
    expect(told.some((e) => e.kind === 'unbind')).toBe(true);
    expect(core.me).toBeNull();
    expect(core.idle).toBe(true);
  });
});
