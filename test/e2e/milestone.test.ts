// SPEC §6 milestone with real processes: 3 peers, setup-dht n = 3 on 1950 (the course file: 72,
// 75, 76; synthetic data of the same size: the counts the hash gives for it).
import { describe, expect, it } from 'vitest';
import { runMilestone } from '../../src/scenario/scenarios.js';
import { DATA_DIR, DATA_LABEL, expectedCounts } from '../helpers/data.js';

describe(`milestone scenario (real processes, 1950, n = 3, ${DATA_LABEL})`, () => {
  const expected = expectedCounts(1950, 3);
  it(`stores ${expected.join(', ')} records on nodes 0, 1, 2, completes, and shuts down cleanly`, async () => {
    const facts = await runMilestone({ dataDir: DATA_DIR, trace: 'summary' });
    expect(facts.data.synthetic).toBe(false); // the directory given was used, nothing made up
    expect(facts.data.dir).toBe(DATA_DIR);
    expect(facts.data.recordCount).toBe(223);
    expect(facts.data.s).toBe(449);
    expect(facts.setup.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(facts.setup.counts).toEqual(expected);
    expect(facts.setup.leader).toBe('peer1');
    expect(facts.setup.answer).toMatch(/^dht-complete: SUCCESS/);
    expect(facts.exitCodes).toEqual({ peer1: 0, peer2: 0, peer3: 0, manager: 0 });
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
