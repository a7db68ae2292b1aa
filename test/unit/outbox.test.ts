// Reliable delivery (SPEC §7: UDP loses and duplicates datagrams). The outbox retransmits with
// exponential backoff up to a ceiling, gives up after a bounded number of tries, and only the
// addressee can stop it; Recent remembers answered requests in bounded memory.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Outbox, Recent, DEFAULT_RETRY, requestKey, type Addr, type RetryPolicy } from '../../src/reliable/index.js';

type Msg = { t: 'ping'; rid: number; n: number };

const POLICY: RetryPolicy = { rtoMs: 100, maxRtoMs: 800, maxTries: 7 };
const PEER: Addr = { ip: '10.0.0.1', port: 6001 };

/** Run the outbox's clock from deadline to deadline; return the times at which `rid` was sent and when it failed. */
function timeline(box: Outbox<Msg, string>, rid: number, sentAt: number): { sends: number[]; failedAt?: number } {
  const sends = [sentAt];
  for (let guard = 0; guard < 1000; guard++) {
    const t = box.nextDeadline();
    if (t === undefined) return { sends };
    const { resend, failed } = box.expire(t);
    if (resend.some((p) => p.rid === rid)) sends.push(t);
    if (failed.some((p) => p.rid === rid)) return { sends, failedAt: t };
  }
  throw new Error('the outbox never stopped');
}

describe('outbox: retransmission', () => {
  it('numbers messages consecutively from the first rid and keeps them until settled', () => {
    const box = new Outbox<Msg, string>(POLICY, 500);
    const a = box.send(0, PEER, { t: 'ping', n: 1 }, 'a');
    const b = box.send(0, PEER, { t: 'ping', n: 2 }, 'b');
    expect([a.rid, b.rid]).toEqual([500, 501]);
    expect(a).toEqual({ t: 'ping', n: 1, rid: 500 });
    expect(box.size).toBe(2);
  });

  it('nothing is resent before the first timeout', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    box.send(1000, PEER, { t: 'ping', n: 1 }, 'x');
    expect(box.nextDeadline()).toBe(1100);
    expect(box.expire(1099)).toEqual({ resend: [], failed: [] });
  });

  it('resend intervals double from rtoMs up to maxRtoMs, then stay there', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const { rid } = box.send(0, PEER, { t: 'ping', n: 1 }, 'x');
    const { sends } = timeline(box, rid, 0);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(gaps).toEqual([100, 200, 400, 800, 800, 800]);
  });

  it('a steady request (a query hop) is resent after one RTO every time, and still fails after maxTries', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const { rid } = box.send(0, PEER, { t: 'ping', n: 1 }, 'x', true);
    const { sends, failedAt } = timeline(box, rid, 0);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(gaps).toEqual([100, 100, 100, 100, 100, 100]);
    expect(failedAt).toBe(700);
  });

  it('fails after exactly maxTries sends in all, and is then forgotten', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const { rid } = box.send(0, PEER, { t: 'ping', n: 1 }, 'x');
    const { sends, failedAt } = timeline(box, rid, 0);
    expect(sends).toHaveLength(POLICY.maxTries);
    expect(failedAt).toBe(sends[sends.length - 1]! + POLICY.maxRtoMs);
    expect(box.size).toBe(0);
    expect(box.nextDeadline()).toBeUndefined();
  });

  it('the resent message is the same message (same rid and body), with its try count', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const sent = box.send(0, PEER, { t: 'ping', n: 42 }, 'tag');
    const { resend } = box.expire(100);
    expect(resend).toHaveLength(1);
    expect(resend[0]).toMatchObject({ rid: sent.rid, msg: sent, to: PEER, tries: 2, tag: 'tag' });
  });

  it('for any policy: gaps double up to the ceiling, and the total number of sends is maxTries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 12 }), (rto, doublings, maxTries) => {
        const policy = { rtoMs: rto, maxRtoMs: rto * 2 ** doublings, maxTries };
        const box = new Outbox<Msg, string>(policy, 0);
        const { rid } = box.send(0, PEER, { t: 'ping', n: 0 }, 'x');
        const { sends, failedAt } = timeline(box, rid, 0);
        expect(sends).toHaveLength(maxTries);
        expect(failedAt).toBeDefined();
        const gaps = [...sends.slice(1), failedAt!].map((t, i) => t - sends[i]!);
        gaps.forEach((g, i) => expect(g).toBe(Math.min(policy.maxRtoMs, rto * 2 ** i)));
      }),
    );
  });

  it('with the default policy a silent peer is given up on after about 20 seconds', () => {
    const box = new Outbox<Msg, string>(DEFAULT_RETRY, 0);
    const { rid } = box.send(0, PEER, { t: 'ping', n: 0 }, 'x');
    const { failedAt } = timeline(box, rid, 0);
    expect(failedAt).toBeGreaterThan(10_000);
    expect(failedAt).toBeLessThan(40_000);
  });
});

describe('outbox: settling', () => {
  it('an acknowledgement from the addressee stops retransmission', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const a = box.send(0, PEER, { t: 'ping', n: 1 }, 'a');
    const b = box.send(0, PEER, { t: 'ping', n: 2 }, 'b');
    expect(box.settle(a.rid, { ...PEER })).toMatchObject({ rid: a.rid, tag: 'a' });
    const { resend } = box.expire(100);
    expect(resend.map((p) => p.rid)).toEqual([b.rid]);
  });

  it.each([
    ['another port on the same host', { ip: PEER.ip, port: PEER.port + 1 }],
    ['the same port on another host', { ip: '10.0.0.2', port: PEER.port }],
  ])('an acknowledgement from %s is ignored', (_, from) => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const a = box.send(0, PEER, { t: 'ping', n: 1 }, 'a');
    expect(box.settle(a.rid, from)).toBeUndefined();
    expect(box.size).toBe(1);
    expect(box.expire(100).resend.map((p) => p.rid)).toEqual([a.rid]);
  });

  it('a second or unknown acknowledgement is harmless', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    const a = box.send(0, PEER, { t: 'ping', n: 1 }, 'a');
    expect(box.settle(a.rid, PEER)).toBeDefined();
    expect(box.settle(a.rid, PEER)).toBeUndefined();
    expect(box.settle(999_999, PEER)).toBeUndefined();
    expect(box.size).toBe(0);
  });

  it('drop forgets only what matches', () => {
    const box = new Outbox<Msg, string>(POLICY, 1);
    box.send(0, PEER, { t: 'ping', n: 1 }, 'job1');
    const keep = box.send(0, PEER, { t: 'ping', n: 2 }, 'job2');
    box.drop((p) => p.tag === 'job1');
    expect(box.expire(100).resend.map((p) => p.rid)).toEqual([keep.rid]);
  });
});

describe('recent: duplicate memory', () => {
  it('remembers what was answered for a key', () => {
    const r = new Recent<string>(10);
    r.set(requestKey('10.0.0.1', 6000, 7), 'SUCCESS');
    expect(r.get(requestKey('10.0.0.1', 6000, 7))).toBe('SUCCESS');
    expect(r.has(requestKey('10.0.0.1', 6000, 8))).toBe(false);
    expect(r.has(requestKey('10.0.0.1', 6001, 7)), 'the sender is part of the key').toBe(false);
    expect(r.has(requestKey('10.0.0.2', 6000, 7))).toBe(false);
  });

  it('is bounded and evicts the oldest first', () => {
    const r = new Recent<number>(3);
    for (const k of ['a', 'b', 'c', 'd']) r.set(k, k.charCodeAt(0));
    expect(r.size).toBe(3);
    expect(r.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((k) => r.has(k))).toBe(true);
    r.set('e', 0);
    expect(r.has('b')).toBe(false);
    expect(r.has('e')).toBe(true);
  });

  it('updating a key already present evicts nothing', () => {
    const r = new Recent<number>(2);
    r.set('a', 1);
    r.set('b', 2);
    r.set('a', 3);
    expect(r.size).toBe(2);
    expect(r.get('a')).toBe(3);
    expect(r.get('b')).toBe(2);
  });

  it('for any sequence of keys, size never exceeds capacity and the last `capacity` distinct keys are kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 200 }), (cap, keys) => {
        const r = new Recent<number>(cap);
        for (const k of keys) {
          r.set(String(k), k);
          expect(r.size).toBeLessThanOrEqual(cap);
        }
        // FIFO by first insertion: the model keeps the newest `cap` of the keys still present
        const model: string[] = [];
        for (const k of keys.map(String)) {
          if (model.includes(k)) continue;
          if (model.length >= cap) model.shift();
          model.push(k);
        }
        for (const k of model) expect(r.has(k)).toBe(true);
        expect(r.size).toBe(model.length);
      }),
    );
  });
});

describe('Outbox: the retransmission timeout follows the measured round trip', () => {
  const to = { ip: '127.0.0.1', port: 7001 };
  const policy = { rtoMs: 200, minRtoMs: 25, maxRtoMs: 3200, maxTries: 10 };

  it('starts at the policy timeout, then falls to the floor when answers come back in 2 ms', () => {
    const box = new Outbox<{ t: 'x'; rid: number }, null>(policy, 1);
    expect(box.rto(to)).toBe(200);
    let now = 0;
    for (let i = 0; i < 20; i++) {
      const m = box.send(now, to, { t: 'x' }, null);
      now += 2;
      box.settle(m.rid, to, now);
    }
    expect(box.rto(to)).toBe(25);
  });

  it('grows with a slow path (srtt + 4 × rttvar) and ignores samples of retransmitted requests (Karn)', () => {
    const box = new Outbox<{ t: 'x'; rid: number }, null>(policy, 1);
    let now = 0;
    for (let i = 0; i < 20; i++) {
      const m = box.send(now, to, { t: 'x' }, null);
      now += 100;
      box.settle(m.rid, to, now);
    }
    expect(box.rto(to)).toBeGreaterThanOrEqual(100);
    const before = box.rto(to);
    const m = box.send(now, to, { t: 'x' }, null);
    box.expire(now + 10_000); // retransmitted once
    box.settle(m.rid, to, now + 20_000);
    expect(box.rto(to)).toBe(before);
  });
});

describe('Outbox: backoff and giving up apply to silent destinations only', () => {
  const to = { ip: '127.0.0.1', port: 7002 };
  const policy = { rtoMs: 100, minRtoMs: 100, maxRtoMs: 3200, maxTries: 3 };

  it('a destination that answers other requests is alive: a lost one is resent every timeout, not given up after maxTries', () => {
    const box = new Outbox<{ t: 'x'; rid: number }, null>(policy, 1);
    const lost = box.send(0, to, { t: 'x' }, null);
    let now = 0;
    const gaps: number[] = [];
    let last = 0;
    for (let i = 0; i < 10; i++) {
      // Something else gets through and is acknowledged between each timeout.
      const other = box.send(now, to, { t: 'x' }, null);
      box.settle(other.rid, to, now + 1);
      now = box.nextDeadline()!;
      const { resend, failed } = box.expire(now);
      expect(failed).toEqual([]);
      if (resend.some((p) => p.rid === lost.rid)) {
        gaps.push(now - last);
        last = now;
      }
    }
    expect(gaps.length).toBeGreaterThan(3);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(101);
  });

  it('a silent destination still gets doubling timeouts and the request fails after maxTries', () => {
    const box = new Outbox<{ t: 'x'; rid: number }, null>(policy, 1);
    box.send(0, to, { t: 'x' }, null);
    const times: number[] = [];
    for (let guard = 0; guard < 10; guard++) {
      const t = box.nextDeadline();
      if (t === undefined) break;
      const { failed } = box.expire(t);
      times.push(t);
      if (failed.length > 0) break;
    }
    expect(times).toEqual([100, 300, 700]);
    expect(box.size).toBe(0);
  });
});

describe('Outbox: ack ordering tells a lost request from a queued one', () => {
  const to = { ip: '127.0.0.1', port: 7003 };
  const policy = { rtoMs: 100, minRtoMs: 100, maxRtoMs: 3200, maxTries: 5 };
  type X = { t: 'x'; rid: number };

  /**
   * A window of `k` requests sent at once to a receiver that works through them in order,
   * acknowledging one every `gapMs` after `firstMs`: the outbox's clock runs from event to event.
   * Returns the rids resent and when each was settled.
   */
  function queue(k: number, firstMs: number, gapMs: number, lost: ReadonlySet<number> = new Set()): { resent: number[]; failed: number[]; box: Outbox<X, null> } {
    const box = new Outbox<X, null>(policy, 1);
    const rids = Array.from({ length: k }, () => box.send(0, to, { t: 'x' }, null).rid);
    const acks = rids.map((rid, i) => ({ rid, at: firstMs + i * gapMs })).filter((a) => !lost.has(a.rid));
    const resent: number[] = [];
    const failed: number[] = [];
    for (let guard = 0; guard < 10_000 && box.size > 0; guard++) {
      const deadline = box.nextDeadline() ?? Infinity;
      const ack = acks[0];
      if (ack && ack.at <= deadline) {
        acks.shift();
        box.settle(ack.rid, to, ack.at);
        continue;
      }
      if (deadline === Infinity) break;
      const r = box.expire(deadline);
      resent.push(...r.resend.map((p) => p.rid));
      failed.push(...r.failed.map((p) => p.rid));
      // A resend of a lost request is acknowledged 10 ms later (the receiver has caught up).
      for (const p of r.resend) {
        if (acks.some((a) => a.rid === p.rid)) continue;
        acks.push({ rid: p.rid, at: deadline + 10 });
        acks.sort((a, b) => a.at - b.at);
      }
    }
    return { resent, failed, box };
  }

  it('a window queued at a live receiver that acknowledges in order, each within one timeout of the last, is never resent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 99 }), (k, first, gap) => {
        const { resent, failed, box } = queue(k, first, gap);
        expect(resent).toEqual([]);
        expect(failed).toEqual([]);
        expect(box.size).toBe(0);
      }),
    );
  });

  it('a receiver that stalls longer than a timeout gets its oldest request again, not the whole window', () => {
    // 128 requests, the first acknowledged after 450 ms (stalled), then one every 2 ms.
    const { resent, failed, box } = queue(128, 450, 2);
    expect(failed).toEqual([]);
    expect(box.size).toBe(0);
    expect(resent.length).toBeLessThanOrEqual(3);
    expect(new Set(resent)).toEqual(new Set([1]));
  });

  it('a request whose successor was acknowledged is lost: resent at its timeout, without backoff or a counted try', () => {
    const box = new Outbox<X, null>(policy, 1);
    const a = box.send(0, to, { t: 'x' }, null);
    const b = box.send(0, to, { t: 'x' }, null);
    box.settle(b.rid, to, 5);
    const { resend } = box.expire(100);
    expect(resend.map((p) => p.rid)).toEqual([a.rid]);
    expect(resend[0]).toMatchObject({ tries: 2, silent: 0 });
    expect(box.nextDeadline()).toBe(200);
  });

  it('the last request of a stream, lost, is resent one timeout after the receiver acknowledged the one before it', () => {
    const box = new Outbox<X, null>(policy, 1);
    const a = box.send(0, to, { t: 'x' }, null);
    const b = box.send(0, to, { t: 'x' }, null);
    box.settle(a.rid, to, 60); // b is lost: nothing after it
    expect(box.expire(100).resend).toEqual([]);
    const t = box.nextDeadline()!;
    expect(t).toBe(60 + box.rto(to));
    const { resend } = box.expire(t);
    expect(resend.map((p) => p.rid)).toEqual([b.rid]);
    expect(resend[0]).toMatchObject({ silent: 0 });
  });

  it('at the tail of a stream under loss, an ack of a resend does not hold back a request resent before it', () => {
    const box = new Outbox<X, null>(policy, 1);
    const a = box.send(0, to, { t: 'x' }, null);
    const b = box.send(0, to, { t: 'x' }, null);
    const c = box.send(0, to, { t: 'x' }, null);
    box.settle(c.rid, to, 5); // a and b were lost
    expect(box.expire(100).resend.map((p) => p.rid)).toEqual([a.rid, b.rid]);
    box.settle(b.rid, to, 150); // b's resend got through, a's did not
    expect(box.expire(200).resend.map((p) => p.rid)).toEqual([a.rid]);
  });

  it('holes in a stream under loss are resent at their first timeout, and everything arrives', () => {
    const lost = new Set([3, 4, 50, 127, 128]);
    const { resent, failed, box } = queue(128, 5, 1, lost);
    expect(failed).toEqual([]);
    expect(box.size).toBe(0);
    expect(new Set(resent)).toEqual(new Set([3, 4, 50, 127, 128]));
  });

  it('a dead destination: every request fails after maxTries silent timeouts; for the first timeouts only the oldest is resent', () => {
    const box = new Outbox<X, null>(policy, 1);
    for (let i = 0; i < 4; i++) box.send(0, to, { t: 'x' }, null);
    const rounds: number[][] = [];
    const failed: number[] = [];
    for (let guard = 0; guard < 100 && box.size > 0; guard++) {
      const r = box.expire(box.nextDeadline()!);
      if (r.resend.length > 0) rounds.push(r.resend.map((p) => p.rid));
      failed.push(...r.failed.map((p) => p.rid));
    }
    expect(failed.sort()).toEqual([1, 2, 3, 4]);
    expect(rounds).toEqual([[1], [1], [1, 2, 3, 4], [1, 2, 3, 4]]); // maxTries 5: the 5th silent timeout fails them
  });

  it('a request behind one its destination never acknowledges is not held back for ever', () => {
    const box = new Outbox<X, null>({ ...policy, maxTries: 40 }, 1);
    box.send(0, to, { t: 'x' }, null); // never acknowledged (refused)
    const b = box.send(0, to, { t: 'x' }, null); // its first copy was lost
    let resentAt: number | undefined;
    for (let guard = 0; guard < 100 && resentAt === undefined; guard++) {
      const t = box.nextDeadline()!;
      if (box.expire(t).resend.some((p) => p.rid === b.rid)) resentAt = t;
    }
    expect(resentAt).toBeLessThanOrEqual(policy.rtoMs * 7);
  });
});
