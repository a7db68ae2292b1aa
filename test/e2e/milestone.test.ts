// SPEC §6 milestone with real processes: 3 peers, setup-dht n = 3 on the real 1950 file.
import { describe, expect, it } from 'vitest';
import { runMilestone } from '../../src/scenario/scenarios.js';
import { DATA_DIR } from './helpers.js';

describe('milestone scenario (real processes, 1950, n = 3)', () => {
  it('stores 72, 75, 76 records on nodes 0, 1, 2, completes, and shuts down cleanly', async () => {
    const facts = await runMilestone({ dataDir: DATA_DIR, trace: 'summary' });
    expect(facts.data.synthetic).toBe(false);
    expect(facts.data.recordCount).toBe(223);
    expect(facts.data.s).toBe(449);
    expect(facts.setup.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(facts.setup.counts).toEqual([72, 75, 76]);
    expect(facts.setup.leader).toBe('peer1');
    expect(facts.setup.answer).toMatch(/^dht-complete: SUCCESS/);
    expect(facts.exitCodes).toEqual({ peer1: 0, peer2: 0, peer3: 0, manager: 0 });
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
