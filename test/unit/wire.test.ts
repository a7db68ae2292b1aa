// Fragmentation (SPEC §3.5: every datagram stays below the payload limit, default 1,400 bytes).
// Ring-sized messages are cut into `frag` datagrams and put back together whatever the order,
// duplication or forgery of the pieces; a lost piece loses the message, never corrupts it.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Wire, MAX_FRAGMENTS, type Received } from '../../src/protocol/wire.js';
import { decode, encode, DEFAULT_MAX_PAYLOAD } from '../../src/protocol/codec.js';
import type { Message, MessageOf, Tuple } from '../../src/protocol/messages.js';
import type { Addr } from '../../src/reliable/index.js';

const FROM: Addr = { ip: '10.0.0.1', port: 6001 };
const OTHER: Addr = { ip: '10.0.0.2', port: 6001 };

function ring(n: number): Tuple[] {
  return Array.from({ length: n }, (_, i) => ({ name: `peer${i}`, ip: `192.168.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 20000 + i }));
}

const setId = (n: number): MessageOf<'set-id'> => ({ t: 'set-id', rid: 123456789, id: 7, n, peers: ring(n), year: 1996, s: 97073, epoch: 3, dht: 1, sec: 'wireTestSecretAAAAAAAA' });

/** Feed datagrams to a receiver; return the whole messages that came out and the rejections. */
function deliver(rx: Wire, datagrams: Buffer[], from: Addr = FROM): { msgs: Message[]; rejected: string[]; results: Received[] } {
  const results = datagrams.map((d) => rx.receive(from, d));
  const msgs: Message[] = [];
  const rejected: string[] = [];
  for (const r of results) {
    if (r.ok === true) msgs.push(r.msg);
    else if (r.ok === false) rejected.push(r.reason);
  }
  return { msgs, rejected, results };
}

describe('wire: fragmentation', () => {
  const msg = setId(200);
  const frags = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg);

  it('a set-id listing 200 peers is cut into several datagrams, each within 1,400 bytes', () => {
    expect(encode(msg).length).toBeGreaterThan(DEFAULT_MAX_PAYLOAD);
    expect(frags.length).toBeGreaterThan(1);
    expect(frags.length).toBeLessThanOrEqual(MAX_FRAGMENTS);
    for (const d of frags) {
      expect(d.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
      const one = decode(d, DEFAULT_MAX_PAYLOAD);
      expect(one.ok && one.msg.t).toBe('frag');
    }
  });

  it('in order, the pieces give back the identical message, once', () => {
    const { msgs, rejected, results } = deliver(new Wire(DEFAULT_MAX_PAYLOAD), frags);
    expect(msgs).toEqual([msg]);
    expect(rejected).toEqual([]);
    expect(results.slice(0, -1).every((r) => r.ok === 'partial')).toBe(true);
  });

  it('in any order, the pieces give back the identical message', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(frags, { minLength: frags.length, maxLength: frags.length }), (order) => {
        const { msgs, rejected } = deliver(new Wire(DEFAULT_MAX_PAYLOAD), order);
        expect(msgs).toEqual([msg]);
        expect(rejected).toEqual([]);
      }),
    );
  });

  it('duplicated pieces are harmless: every message that comes out is the original', () => {
    const withDups = fc
      .array(fc.nat(frags.length - 1), { minLength: 1, maxLength: 20 })
      .chain((dups) => {
        const all = [...frags, ...dups.map((i) => frags[i]!)];
        return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
      });
    fc.assert(
      fc.property(withDups, (order) => {
        const { msgs, rejected } = deliver(new Wire(DEFAULT_MAX_PAYLOAD), order);
        expect(rejected).toEqual([]);
        expect(msgs.length).toBeGreaterThanOrEqual(1);
        for (const m of msgs) expect(m).toEqual(msg);
      }),
    );
  });

  it('a retransmission (all pieces again) after a complete message yields the same message again, no corruption', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    expect(deliver(rx, frags).msgs).toEqual([msg]);
    expect(deliver(rx, [...frags].reverse()).msgs).toEqual([msg]);
  });

  it('a missing piece yields no message', () => {
    fc.assert(
      fc.property(fc.nat(frags.length - 1), fc.boolean(), (missing, twice) => {
        const rest = frags.filter((_, i) => i !== missing);
        const { msgs, rejected } = deliver(new Wire(DEFAULT_MAX_PAYLOAD), twice ? [...rest, ...rest] : rest);
        expect(msgs).toEqual([]);
        expect(rejected).toEqual([]);
      }),
    );
  });

  it('pieces of two senders using the same fragment number do not mix', () => {
    const a = setId(120);
    const b = { ...setId(150), id: 9 };
    const fa = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(a);
    const fb = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(b);
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    const out: Message[] = [];
    for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
      for (const [d, from] of [[fa[i], FROM], [fb[i], OTHER]] as const) {
        if (!d) continue;
        const r = rx.receive(from, d);
        if (r.ok === true) out.push(r.msg);
        expect(r.ok).not.toBe(false);
      }
    }
    expect(out).toHaveLength(2);
    expect(out).toContainEqual(a);
    expect(out).toContainEqual(b);
  });

  it('successive large messages from one sender get distinct fragment numbers', () => {
    const tx = new Wire(DEFAULT_MAX_PAYLOAD);
    const first = tx.datagrams(setId(100));
    const second = tx.datagrams({ ...setId(100), id: 8 });
    const f = (d: Buffer): number => (JSON.parse(d.toString()) as { f: number }).f;
    expect(f(first[0]!)).not.toBe(f(second[0]!));
    // interleaved, both come out whole
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    const { msgs } = deliver(rx, first.flatMap((d, i) => [d, second[i]!].filter(Boolean)));
    expect(msgs.map((m) => (m as MessageOf<'set-id'>).id).sort()).toEqual([7, 8]);
  });

  it('a smaller payload limit is respected too', () => {
    const tx = new Wire(600);
    const ds = tx.datagrams(setId(60));
    expect(ds.length).toBeGreaterThan(1);
    for (const d of ds) expect(d.length).toBeLessThanOrEqual(600);
    expect(deliver(new Wire(600), ds).msgs).toEqual([setId(60)]);
  });

  it('a message needing more than the fragment limit is refused at the sender with an explanation', () => {
    const huge: MessageOf<'store'> = {
      t: 'store', rid: 1, epoch: 1, to: 1, sec: 'wireTestSecretAAAAAAAA',
      recs: Array.from({ length: 200 }, (_, i) => `${i},${Array.from({ length: 13 }, () => 'x'.repeat(200)).join(',')}`).join('\n'),
    };
    expect(() => new Wire(DEFAULT_MAX_PAYLOAD).datagrams(huge)).toThrow(/fragments/);
  });
});

describe('wire: small messages', () => {
  it.each<Message>([
    { t: 'ack', rid: 1 },
    { t: 'cmd', rid: 2, cmd: 'register', args: ['peer1', '127.0.0.1', '6000', '6001'] },
    setId(5),
  ])('a $t that fits goes as one plain datagram and comes back whole', (m) => {
    const ds = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(m);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toEqual(encode(m));
    expect(new Wire(DEFAULT_MAX_PAYLOAD).receive(FROM, ds[0]!)).toEqual({ ok: true, msg: m });
  });
});

describe('wire: forged and broken fragments', () => {
  const frag = (o: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ t: 'frag', f: 1, i: 0, of: 2, d: '', ...o }));

  it.each([
    ['data that is not base64', { d: 'this is *not* base64!' }, /bad frag/],
    ['a part number equal to the count', { i: 2, of: 2 }, /part 2 of 2/],
    ['a part number above the count', { i: 40, of: 3 }, /part 40 of 3/],
    ['a count of 1', { of: 1 }, /bad frag/],
    ['a count above 64', { of: 65 }, /bad frag/],
    ['a negative part number', { i: -1 }, /bad frag/],
    ['an extra field', { x: 1 }, /bad frag/],
  ])('%s is rejected with a reason', (_, fields, reason) => {
    const r = new Wire(DEFAULT_MAX_PAYLOAD).receive(FROM, frag(fields));
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.reason).toMatch(reason);
  });

  it('pieces that are valid base64 but reassemble into garbage are rejected, not thrown', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    expect(rx.receive(FROM, frag({ i: 0, d: Buffer.from('{"t":"ack",').toString('base64') })).ok).toBe('partial');
    const r = rx.receive(FROM, frag({ i: 1, d: Buffer.from('oops').toString('base64') }));
    expect(r).toEqual({ ok: false, reason: 'not JSON' });
  });

  it('pieces that reassemble into a fragment are rejected (no nesting)', () => {
    const inner = Buffer.from(JSON.stringify({ t: 'frag', f: 9, i: 0, of: 2, d: '' }));
    const half = Math.floor(inner.length / 2);
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    rx.receive(FROM, frag({ i: 0, d: inner.subarray(0, half).toString('base64') }));
    const r = rx.receive(FROM, frag({ i: 1, d: inner.subarray(half).toString('base64') }));
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.reason).toMatch(/nested/);
  });

  it('a piece that changes the part count of a message in progress is rejected', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    expect(rx.receive(FROM, frag({ i: 0, of: 3 })).ok).toBe('partial');
    const r = rx.receive(FROM, frag({ i: 1, of: 2 }));
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.reason).toMatch(/part count/);
  });

  it('a forged piece from another address cannot complete or spoil a genuine message', () => {
    const msg = setId(100);
    const frags = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg);
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    deliver(rx, frags.slice(0, -1));
    // the attacker replays the last piece with bad contents from its own address
    const last = JSON.parse(frags[frags.length - 1]!.toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...last, d: Buffer.from('garbage').toString('base64') }));
    expect(rx.receive(OTHER, forged).ok).toBe('partial');
    expect(deliver(rx, frags.slice(-1)).msgs).toEqual([msg]);
  });

  it('arbitrary frag-shaped datagrams never throw, and never produce an invalid message', () => {
    const piece = fc.record({
      t: fc.constant('frag'),
      f: fc.integer({ min: 0, max: 3 }),
      i: fc.integer({ min: -1, max: 5 }),
      of: fc.integer({ min: 1, max: 5 }),
      d: fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }), fc.constant(Buffer.from('{"t":"ack","rid":1}').toString('base64'))),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), piece), { maxLength: 30 }), (pieces) => {
        const rx = new Wire(DEFAULT_MAX_PAYLOAD);
        for (const [other, p] of pieces) {
          const r = rx.receive(other ? OTHER : FROM, Buffer.from(JSON.stringify(p)));
          if (r.ok === true) expect(decode(encode(r.msg)).ok).toBe(true);
          if (r.ok === false) expect(r.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any bytes at all are answered with a verdict, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const r = new Wire(DEFAULT_MAX_PAYLOAD).receive(FROM, bytes);
        expect([true, false, 'partial']).toContain(r.ok);
      }),
    );
  });
});
