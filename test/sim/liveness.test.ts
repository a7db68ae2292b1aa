// Liveness: when the peer the manager waits on dies, the manager gives up after its wait timeout,
// frees the DHT's peers, and takes a new setup-dht; nobody waits forever.
import { describe, it, expect } from 'vitest';
import { World } from '../../src/sim/world.js';
import { toLine } from '../../src/data/line.js';
import { smallDataset, LOSSY_RETRY } from '../../src/sim/scenario.js';

// Longer than a sender's whole retry budget (LOSSY_RETRY: about 30 s), as the defaults are.
const WAIT_MS = 60_000;

function world(seed: number): World {
  const { records } = smallDataset(1996, 800, 3);
  const w = new World({
    seed,
    faults: { loss: 0.05, dup: 0.02, reorder: 0.05 },
    manager: { waitTimeoutMs: WAIT_MS, retry: LOSSY_RETRY },
    peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 60_000 },
    datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'sim' }]]),
  });
  for (let i = 1; i <= 5; i++) w.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i);
  return w;
}

const printed = (lines: string[], prefix: string) => () => lines.some((l) => l.startsWith(prefix));

describe('the manager gives up on a silent peer', () => {
  it('a leader killed mid-setup: the manager dissolves the DHT after --wait-timeout and accepts a new setup-dht', () => {
    const w = world(5);
    for (let i = 1; i <= 5; i++) {
      w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
      expect(w.runUntil(printed(w.peer(`peer${i}`).prints, 'register: SUCCESS'))).toBe(true);
    }
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(printed(w.peer('peer1').prints, 'setup-dht: SUCCESS'))).toBe(true);
    w.kill('peer1');
    const killedAt = w.now;
    expect(w.runUntil(() => w.manager.dht === null, 10 * WAIT_MS)).toBe(true);
    expect(w.now - killedAt).toBeLessThanOrEqual(WAIT_MS + 1);
    expect(w.managerPrints.some((l) => /gave up waiting for dht-complete from peer1/.test(l))).toBe(true);
    expect([...w.manager.peers.values()].every((p) => p.state === 'Free')).toBe(true);
    // The members that got set-id are told, so they are Free locally too.
    w.settle(5_000);
    for (const p of ['peer2', 'peer3', 'peer4', 'peer5']) expect(w.peer(p).core.ring).toBeNull();

    // A new setup is accepted. The dead peer1 is still registered (Free), so a setup may pick it;
    // then the new leader cannot reach it, aborts with a clear line, and the next attempt goes on.
    let completed = false;
    for (let attempt = 0; attempt < 6 && !completed; attempt++) {
      const lines = w.peer('peer2').prints;
      const from = lines.length;
      w.type('peer2', 'setup-dht peer2 3 1996');
      expect(w.runUntil(() => w.peer('peer2').core.idle && lines.length > from, 10 * WAIT_MS)).toBe(true);
      const out = lines.slice(from);
      expect(out.some((l) => l.startsWith('setup-dht: SUCCESS'))).toBe(true);
      completed = out.some((l) => l.startsWith('dht-complete: SUCCESS'));
      if (!completed) expect(out.some((l) => l.startsWith('dht-abort: SUCCESS') || l.startsWith('dissolved:'))).toBe(true);
    }
    expect(completed).toBe(true);
  });

  it('an initiator killed mid-leave: the manager gives up waiting for dht-rebuilt and frees everyone', () => {
    const w = world(9);
    for (let i = 1; i <= 4; i++) {
      w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
      expect(w.runUntil(printed(w.peer(`peer${i}`).prints, 'register: SUCCESS'))).toBe(true);
    }
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(printed(w.peer('peer1').prints, 'dht-complete: SUCCESS'))).toBe(true);
    const member = w.peer('peer1').core.ring!.peers[1]!.name;
    w.type(member, `leave-dht ${member}`);
    expect(w.runUntil(printed(w.peer(member).prints, 'leave-dht: SUCCESS'))).toBe(true);
    w.kill(member);
    expect(w.runUntil(() => w.manager.dht === null, 10 * WAIT_MS)).toBe(true);
    expect(w.managerPrints.some((l) => l.includes(`gave up waiting for dht-rebuilt from ${member}`))).toBe(true);
    expect([...w.manager.peers.values()].every((p) => p.state === 'Free')).toBe(true);
  });

  it('a member killed mid-setup: its left neighbour tells the leader, who aborts at once (no waiting for the manager)', () => {
    const w = world(13);
    for (let i = 1; i <= 4; i++) {
      w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
      expect(w.runUntil(printed(w.peer(`peer${i}`).prints, 'register: SUCCESS'))).toBe(true);
    }
    w.type('peer1', 'setup-dht peer1 4 1996');
    expect(w.runUntil(printed(w.peer('peer1').prints, 'setup: storing'))).toBe(true);
    const ring = w.peer('peer1').core.ring!.peers.map((t) => t.name);
    w.kill(ring[2]!);
    const killedAt = w.now;
    expect(w.runUntil(printed(w.peer('peer1').prints, 'dht-abort: SUCCESS'), 10 * WAIT_MS)).toBe(true);
    expect(w.now - killedAt).toBeLessThan(WAIT_MS);
    expect(w.peer(ring[1]!).prints.some((l) => l.includes('telling the leader peer1'))).toBe(true);
    expect(w.managerPrints.some((l) => l.includes('gave up waiting'))).toBe(false);
    expect(w.manager.dht).toBeNull();
    expect([...w.manager.peers.values()].every((p) => p.state === 'Free')).toBe(true);
  });
});

describe('a rebuild leader without the year\'s file', () => {
  it('tells the peer that left, which aborts: the manager frees everyone at once, nobody waits for a timeout', () => {
    const { records } = smallDataset(1996, 500, 3);
    const w = new World({
      seed: 21, faults: { loss: 0, dup: 0, reorder: 0 },
      manager: { waitTimeoutMs: WAIT_MS, retry: LOSSY_RETRY },
      peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 60_000 },
      datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'sim' }]]),
    });
    // Only peer1 has the file.
    for (let i = 1; i <= 3; i++) w.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i, i === 1 ? undefined : new Map());
    for (let i = 1; i <= 3; i++) {
      w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
      expect(w.runUntil(printed(w.peer(`peer${i}`).prints, 'register: SUCCESS'))).toBe(true);
    }
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(printed(w.peer('peer1').prints, 'dht-complete: SUCCESS'))).toBe(true);
    // The leader leaves: its right neighbour becomes the new leader and has no file to rebuild from.
    w.type('peer1', 'leave-dht peer1');
    const started = w.now;
    expect(w.runUntil(printed(w.peer('peer1').prints, 'dht-abort: SUCCESS'), 10 * WAIT_MS)).toBe(true);
    expect(w.now - started).toBeLessThan(WAIT_MS);
    expect(w.peer('peer1').prints.some((l) => /could not rebuild: .*details-1996\.csv is not in the data directory/.test(l))).toBe(true);
    expect(w.manager.dht).toBeNull();
    expect([...w.manager.peers.values()].every((p) => p.state === 'Free')).toBe(true);
    w.settle(5_000);
    for (const p of ['peer2', 'peer3']) expect(w.peer(p).core.ring).toBeNull();
  });
});
