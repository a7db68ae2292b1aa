// The whole system in the deterministic simulation: the real cores, a faulty in-memory network,
// the invariants of SPEC §6 checked after every step. A failure message names its seed.
import { describe, it, expect } from 'vitest';
import { DATA_LABEL, queryIds, records } from '../helpers/data.js';
import { runScenario, smallDataset, type ScenarioOptions } from '../../src/sim/scenario.js';
import { DEFAULT_RETRY } from '../../src/reliable/index.js';

const LOSSY = { loss: 0.2, dup: 0.05, reorder: 0.1 };
const CLEAN = { loss: 0, dup: 0, reorder: 0 };

function failures(seeds: number[], opts: Omit<ScenarioOptions, 'seed'>): string[] {
  return seeds.map((seed) => runScenario({ ...opts, seed })).filter((r) => !r.ok).map((r) => `seed ${r.seed}: ${r.failures.join('; ')}`);
}

describe('simulation of the full scenario', () => {
  const small = smallDataset(1996, 1500, 7);

  it('200 seeds survive 20% loss, 5% duplication and 10% reordering with every invariant intact', () => {
    const seeds = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(failures(seeds, { faults: LOSSY, peers: 6, n: 5, year: 1996, ...small })).toEqual([]);
  });

  it('with the programs\' default retry policy (10 tries to a silent peer), 100 seeds survive the same faults', () => {
    const seeds = Array.from({ length: 100 }, (_, i) => 1000 + i);
    expect(failures(seeds, { faults: LOSSY, peers: 6, n: 5, year: 1996, ...small, retry: DEFAULT_RETRY })).toEqual([]);
  });

  it('a ring of 50 simulated peers (52 registered) completes the scenario under faults', () => {
    const data = smallDataset(1996, 3000, 11);
    expect(failures([1, 2, 3], { faults: LOSSY, peers: 52, n: 50, year: 1996, ...data })).toEqual([]);
  });

  it('heavy duplication (50%) never stores a record twice', () => {
    expect(failures([1, 2, 3, 4, 5], { faults: { loss: 0, dup: 0.5, reorder: 0.3 }, peers: 6, n: 5, year: 1996, ...small })).toEqual([]);
  });

  it('a seed replays exactly: same datagrams, drops and virtual time', () => {
    const a = runScenario({ seed: 42, faults: LOSSY, peers: 6, n: 5, year: 1996, ...small });
    const b = runScenario({ seed: 42, faults: LOSSY, peers: 6, n: 5, year: 1996, ...small });
    expect(a.ok).toBe(true);
    expect(b).toEqual(a);
    const c = runScenario({ seed: 43, faults: LOSSY, peers: 6, n: 5, year: 1996, ...small });
    expect(c.datagrams === a.datagrams && c.virtualMs === a.virtualMs).toBe(false);
  });

  it('the checker fails a run whose senders give up too early (one try under 20% loss)', () => {
    const r = runScenario({ seed: 1, faults: LOSSY, peers: 6, n: 5, year: 1996, ...small, retry: { rtoMs: 100, maxRtoMs: 100, maxTries: 1 } });
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/^step \d+/);
  });

  it(`the 1996 file of the test data (${DATA_LABEL}), clean and lossy, gives the reference answers`, () => {
    const queries = queryIds();
    const data = records(1996);
    for (const faults of [CLEAN, LOSSY]) {
      const r = runScenario({ seed: 3, faults, peers: 6, n: 5, year: 1996, records: data, queries });
      expect(r.failures).toEqual([]);
    }
  });
});
