// The manager's window of request ids (src/manager/rids.ts): a peer's concurrent requests may
// arrive in any order and are all taken once; a replay, or anything at or below the floor, is not.
import { describe, it, expect } from 'vitest';
import { RID_WINDOW, RequestIds } from '../../../src/manager/rids.js';

function taker(lastRid: number) {
  const ids = new RequestIds();
  const entry = { lastRid };
  const offer = (rid: number, late = true): boolean => {
    if (!ids.fresh(entry, rid, late)) return false;
    ids.take(entry, rid);
    return true;
  };
  return { entry, offer };
}

describe('request ids taken from a peer', () => {
  it('takes requests that arrive out of order, each once', () => {
    const t = taker(100);
    expect([105, 103, 101, 104, 102].map((r) => t.offer(r))).toEqual([true, true, true, true, true]);
    expect([103, 105, 101].map((r) => t.offer(r))).toEqual([false, false, false]);
    expect(t.entry.lastRid).toBe(105);
  });

  it('takes a command that changes the DHT only above the highest id (one never taken is not replayable later)', () => {
    const t = taker(100);
    expect(t.offer(105)).toBe(true);
    expect(t.offer(103, false)).toBe(false);
    expect(t.offer(103)).toBe(true);
    expect(t.offer(106, false)).toBe(true);
  });

  it('refuses everything at or below the highest id known at registration or after a restart', () => {
    const t = taker(100);
    expect([100, 99, 1].map((r) => t.offer(r))).toEqual([false, false, false]);
    expect(t.offer(101)).toBe(true);
  });

  it('keeps a bounded window: the oldest id taken becomes the floor', () => {
    const t = taker(0);
    // An id left out (2) may still come while fewer than RID_WINDOW later ones were taken.
    expect(t.offer(1)).toBe(true);
    for (let r = 3; r < 3 + RID_WINDOW; r++) expect(t.offer(r)).toBe(true);
    expect(t.offer(2)).toBe(true);
    for (let r = 3 + RID_WINDOW; r < 3 + 3 * RID_WINDOW; r++) t.offer(r);
    // Far behind now: below the floor, refused even though it was never taken.
    const t2 = taker(0);
    for (let r = 2; r < 2 + 2 * RID_WINDOW; r++) t2.offer(r);
    expect(t2.offer(1)).toBe(false);
  });
});
