// Repair (PROTOCOL §4.12) in the simulation: a member or the leader of a ready DHT is killed; the
// manager declares it dead, the (new) leader renumbers the ring without it and rebuilds from the
// file, the counts are those of the formula for n − 1, every record of the dead node is found
// again, and its name can be registered again.
import { describe, it, expect } from 'vitest';
import { World } from '../../src/sim/world.js';
import { toLine } from '../../src/data/line.js';
import { eventIdOf } from '../../src/data/record.js';
import { nodeOf, positionOf, tableSize } from '../../src/data/hash.js';
import { DEFAULT_LIVENESS } from '../../src/manager/liveness.js';
import { smallDataset, LOSSY_RETRY } from '../../src/sim/scenario.js';

const RECORDS = 900;
const data = smallDataset(1996, RECORDS, 3);

function world(seed: number, loss: number): World {
  const w = new World({
    seed,
    faults: { loss, dup: 0.02, reorder: 0.05 },
    manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY, liveness: DEFAULT_LIVENESS },
    peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 60_000 },
    datasets: new Map([[1996, { year: 1996, lines: data.records.map(toLine), source: 'sim' }]]),
  });
  for (let i = 1; i <= 6; i++) w.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i);
  return w;
}

const printed = (lines: string[], re: RegExp) => () => lines.some((l) => re.test(l));

/** Registers six peers and sets up a DHT of 5 led by peer1; returns the ring's names in order. */
function ready(w: World): string[] {
  for (let i = 1; i <= 6; i++) {
    w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
    expect(w.runUntil(printed(w.peer(`peer${i}`).prints, /^register: SUCCESS/))).toBe(true);
  }
  w.type('peer1', 'setup-dht peer1 5 1996');
  expect(w.runUntil(printed(w.peer('peer1').prints, /^dht-complete: SUCCESS/))).toBe(true);
  return w.peer('peer1').core.ring!.peers.map((p) => p.name);
}

/** Each node's table holds exactly the records the formula gives it in the ring the manager now has. */
function expectTablesRight(w: World): void {
  const d = w.manager.dht!;
  const s = tableSize(RECORDS);
  const expected = d.members.map(() => 0);
  for (const r of data.records) expected[nodeOf(positionOf(eventIdOf(r), s), d.members.length)]! += 1;
  const held = d.members.map((m) => w.peer(m).core.table.count);
  expect(held).toEqual(expected);
  expect(d.counts).toEqual(expected);
}

function queryFound(w: World, querier: string, eventId: number): void {
  const lines = w.peer(querier).prints;
  const from = lines.length;
  w.type(querier, `query-dht ${querier} ${eventId}`);
  expect(w.runUntil(() => lines.slice(from).some((l) => /^query-dht: (answered in|no answer)|^Storm event \d+ not found/.test(l)), 600_000)).toBe(true);
  const out = lines.slice(from);
  expect(out).toContain(`event_id: ${eventId}`);
  expect(out.some((l) => /^query-dht: answered in/.test(l))).toBe(true);
  expect(out.join('\n')).not.toMatch(/not found/);
}

describe('repair after a death', () => {
  for (const [what, pick] of [['a member', (ring: string[]) => ring[2]!], ['the leader', (ring: string[]) => ring[0]!]] as const) {
    it(`${what} killed: the ring is renumbered without it, rebuilt, counts right, its records found, its name free again`, () => {
      for (const seed of [1, 2, 3]) {
        const w = world(seed, 0.1);
        const ring = ready(w);
        const dead = pick(ring);
        const deadId = ring.indexOf(dead);
        const deadRecord = data.records.find((r) => nodeOf(positionOf(eventIdOf(r), tableSize(RECORDS)), 5) === deadId)!;
        w.kill(dead);
        expect(w.runUntil(() => w.manager.dht?.phase === 'repairing', 30_000)).toBe(true);
        expect(w.runUntil(() => w.manager.dht?.phase === 'ready' && w.manager.dht.counts !== undefined, 120_000)).toBe(true);
        const d = w.manager.dht!;
        expect(d.members).toEqual(ring.filter((m) => m !== dead));
        expect(d.leader).toBe(dead === ring[0] ? ring[1] : ring[0]);
        expect(w.manager.peers.has(dead)).toBe(false);
        const leaderLines = w.peer(d.leader).prints;
        expect(leaderLines.some((l) => /^repair: \d+ records stored on 4 nodes$/.test(l))).toBe(true);
        expect(leaderLines.filter((l) => /^node \d /.test(l)).length).toBeGreaterThanOrEqual(4);
        w.settle(2_000);
        expectTablesRight(w);
        // The Free peer finds a record of the dead node.
        const free = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'].find((p) => !ring.includes(p))!;
        queryFound(w, free, eventIdOf(deadRecord));
        // The dead peer's process, started again on its ports, registers its old name.
        w.restart(dead);
        const i = Number(dead.slice(4));
        w.type(dead, `register ${dead} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
        expect(w.runUntil(printed(w.peer(dead).prints, /^register: SUCCESS/))).toBe(true);
      }
    });
  }

  it('a new leader tears the repaired DHT down; everyone is Free', () => {
    const w = world(7, 0.1);
    const ring = ready(w);
    w.kill(ring[0]!);
    expect(w.runUntil(() => w.manager.dht?.phase === 'repairing', 30_000)).toBe(true);
    expect(w.runUntil(() => w.manager.dht?.phase === 'ready' && w.manager.dht.counts !== undefined, 120_000)).toBe(true);
    const leader = w.manager.dht!.leader;
    w.type(leader, `teardown-dht ${leader}`);
    expect(w.runUntil(printed(w.peer(leader).prints, /^teardown-complete: SUCCESS/), 120_000)).toBe(true);
    expect(w.manager.dht).toBeNull();
    for (const m of ring.slice(1)) expect(w.peer(m).core.ring).toBeNull();
  });

  it('the repairer dying too dissolves the DHT (nobody waits forever)', () => {
    const w = world(11, 0.05);
    const ring = ready(w);
    w.kill(ring[2]!);
    expect(w.runUntil(() => w.manager.dht?.phase === 'repairing', 30_000)).toBe(true);
    w.kill(ring[0]!);
    expect(w.runUntil(() => w.manager.dht === null, 120_000)).toBe(true);
    expect(w.managerPrints.some((l) => /the repairer\) is dead; the DHT is dissolved/.test(l))).toBe(true);
  });
});
