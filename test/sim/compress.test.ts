// Compressed store batches (`dht-peer --compress on`) on a faulty network: the full scenario and
// the random workload with crashes and partitions pass the checker (every node's records and
// counts, every answer) exactly as without compression, in fewer datagrams.
import { describe, it, expect } from 'vitest';
import { DEFAULTS, loadSimData, runSeed, type SimOptions } from '../../src/sim/run.js';

describe('compressed store batches under loss, duplication and reordering', () => {
  it('the full scenario: 150 seeds pass, and the store stream takes fewer datagrams', () => {
    const o: SimOptions = { ...DEFAULTS, workload: 'script', compress: true };
    const data = loadSimData(o);
    const latencies = ['lan', 'uniform', 'exp', 'link'] as const;
    const failed: string[] = [];
    let datagrams = 0;
    let plainDatagrams = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = runSeed({ ...o, latency: latencies[seed % 4]! }, seed, data);
      if (!r.ok) failed.push(`seed ${seed}: ${r.failures.join('; ')}`);
      datagrams += r.datagrams;
      if (seed <= 10) plainDatagrams += runSeed({ ...o, compress: false, latency: latencies[seed % 4]! }, seed, data).datagrams;
      if (seed === 10) expect(datagrams).toBeLessThan(plainDatagrams * 0.75);
    }
    expect(failed).toEqual([]);
  });

  it('the random workload (crashes, restarts, partitions, repairs; r = 1 and r = 2): 200 seeds pass the checker', () => {
    const o: SimOptions = { ...DEFAULTS, workload: 'random', steps: 40, records: 200, loss: 0.1, dup: 0.05, reorder: 0.1, crash: 0.03, partition: 0.03, compress: true };
    const data = loadSimData(o);
    const failed: string[] = [];
    let setups = 0;
    let answers = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = runSeed({ ...o, replicas: seed % 2 === 0 ? 2 : 1 }, seed, data);
      if (!r.ok) failed.push(`seed ${seed}: ${r.failures.join('; ')}`);
      setups += r.completed.get('dht-complete') ?? 0;
      answers += r.answers;
    }
    expect(failed).toEqual([]);
    expect(setups).toBeGreaterThan(100);
    expect(answers).toBeGreaterThan(100);
  });
});
