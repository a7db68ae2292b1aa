// Failure detection in the simulation (PROTOCOL §4.11), a small version of `npm run sim:detect`
// (10,000 seeds there): with the defaults, at 30 % loss, a killed peer is declared dead within
// 2 s, and no live peer is declared dead.
import { describe, it, expect } from 'vitest';
import { DETECT_DEFAULTS, runDetectSeed, summarize } from '../../src/sim/detect.js';

describe('failure detection at 30 % loss', () => {
  it('150 seeds: every killed peer declared dead within 2 s, no false positive, a few datagrams per peer per second', () => {
    const reports = Array.from({ length: 150 }, (_, i) => runDetectSeed(i + 1, { ...DETECT_DEFAULTS, liveMs: 10_000 }));
    const r = summarize(reports);
    expect(r.detected).toBe(150);
    expect(r.max).toBeLessThan(2_000);
    expect(r.falsePositives, `false positives in seeds ${r.fpSeeds.join(', ')}`).toBe(0);
    expect(r.perPeerPerS).toBeGreaterThan(3);
    expect(r.perPeerPerS).toBeLessThan(8);
  });
});
