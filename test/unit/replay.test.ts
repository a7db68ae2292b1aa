// The replay window (reliable/replay.ts): every request id is taken once; a copy is a duplicate;
// an id at or below the window's floor is refused, so a datagram captured and sent again later
// never acts twice. Property-based: against a model that remembers every id ever taken.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { REPLAY_WINDOW, ReplayGuard } from '../../src/reliable/replay.js';

describe('replay window', () => {
  it('takes a new id once; a copy is a duplicate; an id far below the highest is old', () => {
    const g = new ReplayGuard();
    expect(g.check('a', 1000)).toBe('new');
    g.mark('a', 1000);
    expect(g.check('a', 1000)).toBe('duplicate');
    expect(g.check('a', 999)).toBe('new'); // reordered, not seen yet
    g.mark('a', 999);
    expect(g.check('a', 999)).toBe('duplicate');
    g.mark('a', 1000 + REPLAY_WINDOW);
    expect(g.check('a', 1000)).toBe('old');
    expect(g.check('a', 1001)).toBe('new');
    expect(g.check('b', 5), 'each sender has its own window').toBe('new');
  });

  it('never takes an id twice, and takes every unseen id within the window (model check)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 3 * REPLAY_WINDOW })), { maxLength: 300 }),
      (events) => {
        const g = new ReplayGuard();
        const taken = new Map<string, Set<number>>();
        const top = new Map<string, number>();
        for (const [s, rid] of events) {
          const seen = taken.get(s) ?? new Set<number>();
          taken.set(s, seen);
          const verdict = g.check(s, rid);
          if (seen.has(rid)) expect(verdict).not.toBe('new');
          const t = top.get(s) ?? -1;
          if (!seen.has(rid) && rid > t - REPLAY_WINDOW) expect(verdict).toBe('new');
          if (rid <= t - REPLAY_WINDOW) expect(verdict).toBe('old');
          if (verdict === 'new') {
            g.mark(s, rid);
            seen.add(rid);
            top.set(s, Math.max(t, rid));
          }
        }
      }), { numRuns: 300 });
  });

  it('holds a bounded number of senders, the least recently heard forgotten first', () => {
    const g = new ReplayGuard(3);
    for (const s of ['a', 'b', 'c']) g.mark(s, 1);
    g.mark('a', 2); // a heard again
    g.mark('d', 1);
    expect(g.senders).toBe(3);
    expect(g.check('a', 2)).toBe('duplicate');
    expect(g.check('b', 1), 'b was forgotten').toBe('new');
  });
});
