// What a well-typed message may still claim wrongly: impossible rings and walks are refused,
// and acks are coalesced without losing one.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ringProblem, walkProblem } from '../../src/peer/checks.js';
import { AckBatcher } from '../../src/reliable/acks.js';

const tuple = (name: string, port: number) => ({ name, ip: '127.0.0.1', port });
const ring3 = [tuple('a', 1), tuple('b', 2), tuple('c', 3)];

describe('ring descriptions (set-id, reset-id)', () => {
  it('accepts a consistent ring', () => {
    expect(ringProblem({ id: 2, n: 3, peers: ring3, s: 449 })).toBeNull();
  });
  it.each([
    [{ id: 0, n: 4, peers: ring3, s: 449 }, 'n = 4 but 3 peers'],
    [{ id: 3, n: 3, peers: ring3, s: 449 }, 'id 3 is not below n = 3'],
    [{ id: 0, n: 3, peers: ring3, s: 0 }, 'table size 0'],
    [{ id: 0, n: 3, peers: [ring3[0]!, ring3[0]!, ring3[2]!], s: 449 }, 'listed twice'],
  ])('refuses %j', (m, why) => {
    expect(ringProblem(m)).toContain(why);
  });
});

describe('query walks (find-event)', () => {
  it('accepts the first hop and any honest continuation', () => {
    expect(walkProblem({ remaining: null, idSeq: [] }, { n: 5, id: 2 })).toBeNull();
    expect(walkProblem({ remaining: [0, 4], idSeq: [1, 3, 2] }, { n: 5, id: 2 })).toBeNull();
  });
  it('refuses any walk that repeats a node, lists the receiver as still to visit, or is longer than the ring', () => {
    fc.assert(fc.property(fc.array(fc.nat(7), { maxLength: 20 }), fc.array(fc.nat(7), { maxLength: 20 }), fc.nat(7), (rem, seq, me) => {
      const ids = [...rem, ...seq];
      const honest = new Set(ids).size === ids.length && ids.length <= 8 && !rem.includes(me);
      expect(walkProblem({ remaining: rem, idSeq: seq }, { n: 8, id: me }) === null).toBe(honest);
    }));
  });
});

describe('coalesced acks', () => {
  const to = { ip: '127.0.0.1', port: 9 };
  it('holds acks until flushed, then sends one datagram per destination with every id', () => {
    const acks = new AckBatcher<'p'>(0);
    for (let rid = 1; rid <= 10; rid++) expect(acks.add(0, 'p', to, rid)).toBeNull();
    expect(acks.deadline()).toBe(0);
    const out = acks.flush(0);
    expect(out).toHaveLength(1);
    expect([out[0]!.msg.rid, ...(out[0]!.msg.more ?? [])]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(acks.deadline()).toBeUndefined();
  });
  it('sends a full datagram of 65 ids at once', () => {
    const acks = new AckBatcher<'p'>(5);
    let full = null;
    for (let rid = 1; rid <= 65; rid++) full = acks.add(0, 'p', to, rid) ?? full;
    expect(full!.msg.more).toHaveLength(64);
    expect(acks.flush(10)).toEqual([]);
  });
});
