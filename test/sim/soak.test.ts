// A long life in the simulation: 100 setup/teardown cycles on the same processes. What a process
// holds in its bounded structures (outbox, names, replay windows, answer caches, complaint kinds,
// partial fragments, console queue, table) must be the same after cycle 100 as after cycle 10:
// memory that grows with the number of cycles is a leak, whatever the bounds (issue 9: a peer crept
// from 61–80 MB to 128–166 MB over 100 cycles). The figures compared are entry counts, exact and
// repeatable, not a process's RSS; `npm run bench` reports RSS over real cycles.
import { describe, expect, it } from 'vitest';
import { World } from '../../src/sim/world.js';
import { LOSSY_RETRY, smallDataset } from '../../src/sim/scenario.js';
import { toLine } from '../../src/data/line.js';
import { DEFAULT_MAX_PAYLOAD } from '../../src/protocol/codec.js';

const PEERS = ['peer1', 'peer2', 'peer3', 'peer4'];

function footprints(world: World): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = { manager: world.manager.footprint() };
  for (const name of PEERS) {
    const p = world.peer(name);
    out[name] = { ...p.core.footprint(), ...Object.fromEntries(Object.entries(p.interp.footprint()).map(([k, v]) => [`interp.${k}`, v])) };
  }
  return out;
}

describe('a long life: 100 setup/teardown cycles', () => {
  // A clean network, so that what is compared is the cycles' own doing: under loss, partial
  // fragments and complaint kinds come and go with chance (their bounds are unit-tested). The
  // per-address answer caches fill up to their bound (64 answers) in the first 16 cycles.
  it('every bounded structure holds as much after cycle 100 as after cycle 25', () => {
    const { records } = smallDataset(1996, 2000, 3);
    const world = new World({
      seed: 7,
      faults: { loss: 0, dup: 0, reorder: 0 },
      manager: { waitTimeoutMs: 600_000, retry: LOSSY_RETRY },
      peer: { retry: LOSSY_RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 60_000 },
      datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'simulation' }]]),
    });
    const command = (name: string, line: string, expect: string): void => {
      const p = world.peer(name);
      const from = p.prints.length;
      world.type(name, line);
      const ok = world.runUntil(() => p.core.idle && p.prints.slice(from).some((l) => l.startsWith(expect)), 600_000);
      if (!ok) throw new Error(`'${line}' at ${name}: no '${expect}': ${p.prints.slice(-5).join(' | ')}`);
    };
    PEERS.forEach((name, i) => {
      world.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
      command(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`, 'register: SUCCESS');
    });
    let at25: Record<string, Record<string, number>> = {};
    for (let cycle = 1; cycle <= 100; cycle++) {
      command('peer1', 'setup-dht peer1 3 1996', 'dht-complete: SUCCESS');
      command('peer1', 'teardown-dht peer1', 'teardown-complete: SUCCESS');
      world.settle(5_000); // late retransmissions and acks play out
      if (cycle === 25) at25 = footprints(world);
    }
    const at100 = footprints(world);
    // Flat: what varies from cycle to cycle (which peers the manager picks, how many digits a DHT
    // number has) may move a little; nothing may grow with the number of cycles.
    const grown: string[] = [];
    for (const [proc, fp] of Object.entries(at100)) {
      for (const [k, v] of Object.entries(fp)) {
        const before = at25[proc]![k]!;
        if (v > Math.max(before * 1.05, before + 2)) grown.push(`${proc}.${k}: ${before} after cycle 25, ${v} after cycle 100`);
      }
    }
    expect(grown).toEqual([]);
    // And nothing is left of the DHTs: no records, nothing waiting to be sent.
    for (const name of PEERS) expect(at100[name]).toMatchObject({ records: 0, outbox: 0, lines: 0, 'interp.partials': 0 });
    expect(at100['manager']).toMatchObject({ peers: 4, outbox: 0 });
  }, 120_000);
});
