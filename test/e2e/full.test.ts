// SPEC §6 full scenario with real processes on the 1996 test data (the course file, or synthetic
// data of the same size: test/helpers/test-data.ts): setup (n = 5), four queries, a leave, a query
// by the leaver, a join, another query, teardown, everyone exits.
import { beforeAll, describe, expect, it } from 'vitest';
import { runFull, type FullFacts } from '../../src/scenario/scenarios.js';
import { COLUMNS, eventIdOf } from '../../src/data/record.js';
import { countsPerNode, tableSize } from '../../src/data/hash.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, presentAndAbsent, queryIds, recordById, records as testRecords } from '../helpers/data.js';

const REFERENCE = expectedCounts(1996, 5);
const { present: [P1, P2], absent: [A1, A2] } = presentAndAbsent();

describe(`full scenario (real processes, 1996, n = 5, ${DATA_LABEL})`, () => {
  let facts: FullFacts;
  const records = testRecords(1996);

  beforeAll(async () => {
    facts = await runFull({ dataDir: DATA_DIR, trace: 'summary' });
  }, 300_000);

  const byId = (id: number) => recordById(1996, id)!;

  it('builds the DHT with the reference counts in node-id order', () => {
    expect(facts.data.recordCount).toBe(48_534);
    expect(facts.data.queryIds).toEqual(queryIds());
    expect(facts.setup.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4]);
    expect(facts.setup.counts).toEqual(REFERENCE);
    expect(facts.setup.answer).toMatch(/^dht-complete: SUCCESS/);
    expect(facts.setup.nodes.map((n) => n.name)).not.toContain(facts.free);
  });

  it(`finds ${P1} and ${P2} with all 14 fields, as in the file`, () => {
    for (const id of [P1, P2]) {
      expect(byId(id)).toBeDefined();
      const q = facts.queries.find((x) => x.eventId === id && x.asker === facts.free)!;
      expect(q.found).toBe(true);
      expect(Object.keys(q.fields)).toEqual([...COLUMNS]);
      const rec = byId(id);
      for (const column of ['event_id', 'state', 'year', 'month_name', 'event_type', 'cz_name', 'damage_property', 'tor_f_scale'] as const) {
        expect(q.fields[column]).toBe(rec[COLUMNS.indexOf(column)]);
      }
      expect(q.answer[q.answer.length - 1]).toMatch(/^id-seq: \d+(, \d+)*$/);
    }
  });

  it(`prints exactly "Storm event <id> not found in the DHT." for ${A1} and ${A2}`, () => {
    for (const id of [A1, A2]) {
      expect(recordById(1996, id)).toBeUndefined();
      const q = facts.queries.find((x) => x.eventId === id)!;
      expect(q.found).toBe(false);
      expect(q.answer).toContain(`Storm event ${id} not found in the DHT.`);
      expect(q.answer[q.answer.length - 1]).toMatch(/^id-seq: /);
    }
  });

  it('after a member leaves, four nodes hold every record as the hash says', () => {
    expect(facts.afterLeave.counts).toHaveLength(4);
    expect(facts.afterLeave.counts.reduce((a, b) => a + b, 0)).toBe(48_534);
    const s = tableSize(records.length);
    expect(facts.afterLeave.counts).toEqual(countsPerNode(records.map(eventIdOf), s, 4));
    expect(facts.afterLeave.nodes.map((n) => n.name)).not.toContain(facts.leaver);
    expect(facts.afterLeave.answer).toMatch(/^dht-rebuilt: SUCCESS/);
    const q = facts.queries.find((x) => x.asker === facts.leaver && x.eventId === P1)!;
    expect(q.found).toBe(true);
  });

  it('after the Free peer joins, five nodes hold the reference counts again', () => {
    expect(facts.afterJoin.counts).toEqual(REFERENCE);
    expect(facts.afterJoin.nodes.map((n) => n.name)).toContain(facts.free);
    expect(facts.afterJoin.answer).toMatch(/^dht-rebuilt: SUCCESS/);
    const q = facts.queries.find((x) => x.asker === facts.leaver && x.eventId === P2)!;
    expect(q.found).toBe(true);
  });

  it('tears down at the current leader; every peer and the manager exit 0', () => {
    expect(facts.teardownBy).toBe(facts.afterJoin.leader);
    expect(facts.checks.find((c) => c.what === 'teardown-complete')?.ok).toBe(true);
    expect(Object.keys(facts.exitCodes).sort()).toEqual(['manager', 'peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6']);
    expect(Object.values(facts.exitCodes).every((c) => c === 0)).toBe(true);
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
