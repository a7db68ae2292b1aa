// SPEC §7: UDP loses, duplicates and reorders datagrams, and every command must still complete
// with no record lost or stored twice. The full scenario of SPEC §6 (1996, n = 5) with fault
// injection in EVERY process (manager and all six peers): each sent datagram is dropped with
// probability 0.2, sent twice with 0.05, held back 1–20 ms with 0.1. The answers must be exactly
// those of the clean run (full.test.ts).
//
// Retry options: the programs' defaults. A hop succeeds only if the datagram and its
// acknowledgement both survive (0.8 × 0.8 = 0.64). Backoff and the count of tries apply only while
// the destination is silent (src/reliable/outbox.ts): a destination that acknowledges other
// datagrams is alive, so a lost batch is resent after one timeout and never given up for bad luck.
// The manager gets --wait-timeout 600 s so that a slow machine is not mistaken for a dead leader.
import { beforeAll, describe, expect, it } from 'vitest';
import { runFull, type FullFacts } from '../../src/scenario/scenarios.js';
import type { System } from '../../src/scenario/system.js';
import { COLUMNS, eventIdOf } from '../../src/data/record.js';
import { countsPerNode, tableSize } from '../../src/data/hash.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, presentAndAbsent, recordById, records as testRecords } from '../helpers/data.js';

const REFERENCE = expectedCounts(1996, 5);
const { present: [P1, P2], absent: [A1, A2] } = presentAndAbsent();
const CHAOS = 'loss=0.2,dup=0.05,reorder=0.1';
const PEER_ARGS = ['--chaos', CHAOS];
const MANAGER_ARGS = ['--chaos', CHAOS, '--wait-timeout', '600'];

describe(`full scenario under loss 20 %, duplication 5 %, reordering 10 % in every process (${DATA_LABEL})`, () => {
  let facts: FullFacts;
  const records = testRecords(1996);
  let system: System;

  beforeAll(async () => {
    facts = await runFull({
      dataDir: DATA_DIR, trace: 'summary', peerArgs: PEER_ARGS, managerArgs: MANAGER_ARGS,
      onSystem: (s) => {
        system = s;
      },
    });
    process.stdout.write(`chaos: full scenario took ${(facts.elapsedMs / 1000).toFixed(1)} s\n`);
  }, 900_000);

  const byId = (id: number) => recordById(1996, id)!;

  it('every process ran with the faults on', () => {
    expect(system.manager.lines.some((l) => l.startsWith('manager: chaos loss=0.2, dup=0.05, reorder=0.1'))).toBe(true);
    for (const p of system.peers.values()) expect(p.lines[0]).toMatch(/; chaos loss=0\.2, dup=0\.05, reorder=0\.1, delay=0 ms;/);
    // The faults happened: requests were retransmitted (traced as `[try k]`) in the manager and the peers.
    const retries = system.all().map((p) => p.lines.filter((l) => / \[try \d+\]$/.test(l)).length);
    expect(retries.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  });

  it('builds the DHT with the reference counts', () => {
    expect(facts.setup.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4]);
    expect(facts.setup.counts).toEqual(REFERENCE);
    expect(facts.setup.answer).toMatch(/^dht-complete: SUCCESS/);
  });

  it(`finds ${P1} and ${P2} with every field as in the file`, () => {
    for (const id of [P1, P2]) {
      const q = facts.queries.find((x) => x.eventId === id && x.asker === facts.free)!;
      expect(q.found).toBe(true);
      expect(Object.keys(q.fields)).toEqual([...COLUMNS]);
      const rec = byId(id);
      COLUMNS.forEach((c, i) => expect(q.fields[c], c).toBe(rec[i]));
    }
  });

  it(`does not find ${A1} and ${A2}`, () => {
    for (const id of [A1, A2]) {
      const q = facts.queries.find((x) => x.eventId === id)!;
      expect(q.found).toBe(false);
      expect(q.answer).toContain(`Storm event ${id} not found in the DHT.`);
    }
  });

  it(`after the leave, four nodes hold all ${records.length} records as the hash says`, () => {
    expect(facts.afterLeave.counts.reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(facts.afterLeave.counts).toEqual(countsPerNode(records.map(eventIdOf), tableSize(records.length), 4));
    expect(facts.afterLeave.answer).toMatch(/^dht-rebuilt: SUCCESS/);
    expect(facts.queries.find((x) => x.asker === facts.leaver && x.eventId === P1)?.found).toBe(true);
  });

  it('after the join, five nodes hold the reference counts again', () => {
    expect(facts.afterJoin.counts).toEqual(REFERENCE);
    expect(facts.afterJoin.answer).toMatch(/^dht-rebuilt: SUCCESS/);
    expect(facts.queries.find((x) => x.asker === facts.leaver && x.eventId === P2)?.found).toBe(true);
  });

  it('tears down, and every process exits 0', () => {
    expect(facts.checks.find((c) => c.what === 'teardown-complete')?.ok).toBe(true);
    expect(Object.keys(facts.exitCodes).sort()).toEqual(['manager', 'peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6']);
    expect(Object.values(facts.exitCodes).every((c) => c === 0)).toBe(true);
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
