// The replay window against a model that remembers every counter: same verdicts for any
// sequence of counters, including jumps larger than the window and the top of the u32 range.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplayWindow, SenderWindows, WINDOW_BITS, WINDOW_REACH, type Verdict } from '../../../src/crypto/replay.js';

class Model {
  private top = -1;
  private readonly seen = new Set<number>();
  check(c: number): Verdict {
    if (c > this.top) return 'new';
    if (this.top - c >= WINDOW_REACH) return 'too-old';
    return this.seen.has(c) ? 'replayed' : 'new';
  }
  record(c: number): void {
    this.top = Math.max(this.top, c);
    this.seen.add(c);
  }
}

const counters = fc.array(
  fc.oneof(fc.nat(3 * WINDOW_BITS), fc.integer({ min: 0xffff_ffff - 3 * WINDOW_BITS, max: 0xffff_ffff })),
  { maxLength: 400 },
);

describe('replay window', () => {
  it(`keeps ${WINDOW_BITS} bits and refuses what is at least ${WINDOW_REACH} behind the newest`, () => {
    const w = new ReplayWindow();
    w.record(WINDOW_REACH);
    expect(w.check(0)).toBe('too-old');
    expect(w.check(1)).toBe('new');
    w.record(1);
    expect(w.check(1)).toBe('replayed');
    expect(w.check(WINDOW_REACH)).toBe('replayed');
  });

  it('agrees with a model that remembers everything', () => {
    fc.assert(fc.property(counters, (cs) => {
      const w = new ReplayWindow();
      const m = new Model();
      for (const c of cs) {
        const v = w.check(c);
        expect(v, `counter ${c}`).toBe(m.check(c));
        if (v === 'new') {
          w.record(c);
          m.record(c);
        }
      }
    }), { numRuns: 300 });
  });

  it('a climbing sequence with small reorderings is accepted whole, and refused whole the second time', () => {
    fc.assert(fc.property(fc.array(fc.nat(30), { maxLength: 3000 }), (jitter) => {
      const w = new ReplayWindow();
      const cs = jitter.map((j, i) => i * 3 + j);
      const firstTime = cs.map((c) => w.check(c) === 'new' && (w.record(c), true));
      const unique = cs.filter((c, i) => cs.indexOf(c) === i).length;
      expect(firstTime.filter(Boolean).length).toBe(unique);
      expect(cs.every((c) => w.check(c) !== 'new')).toBe(true);
    }), { numRuns: 50 });
  });
});

describe('sender windows', () => {
  it('keep at most max senders, evicting the least recently heard', () => {
    const s = new SenderWindows(3);
    for (const id of ['a', 'b', 'c']) s.touch(id);
    s.touch('a'); // a heard again: b is now the oldest
    s.touch('d');
    expect(s.size).toBe(3);
    expect(s.get('b')).toBeUndefined();
    expect(s.get('a')).toBeDefined();
    for (let i = 0; i < 10_000; i++) s.touch(`x${i}`);
    expect(s.size).toBe(3);
  });
});
