// Several messages in one datagram (src/protocol/pack.ts, src/runtime/coalesce.ts; PROTOCOL §2.6):
// what goes in comes out, each message checked on its own; what may not share a datagram is
// refused with a reason a person can act on; the sender never exceeds the payload limit nor
// MAX_PACKED, and keeps each destination's order.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode, encode, DEFAULT_MAX_PAYLOAD, HARD_MAX_PAYLOAD } from '../../src/protocol/codec.js';
import { isPack, MAX_PACKED, pack, unpack } from '../../src/protocol/pack.js';
import { Coalescer } from '../../src/runtime/coalesce.js';
import type { Message } from '../../src/protocol/messages.js';
import type { Addr } from '../../src/reliable/index.js';

const CAP = 'q3JxV0n8rXo2b5m1c9KdAw';
const TOK = 'Zb0kqT1x4yH7wP2eN6aLsg';
const tuple = { name: 'peer2', ip: '127.0.0.1', port: 6003 };
const record = ['10096222', 'OKLAHOMA', '1950', 'April', 'Tornado', 'C', 'WASHITA', '0', '0', '0', '0', '250K', '0', 'F3'];

const cmd = (rid: number): Message => ({ t: 'cmd', rid, cmd: 'query-dht', args: [], tok: TOK });
const res = (rid: number): Message => ({ t: 'res', rid, cmd: 'query-dht', code: 'SUCCESS', text: 'ask peer2', peer: tuple, cap: CAP, tok: TOK });
const result = (rid: number): Message => ({ t: 'event-result', rid, qid: rid, eventId: 10096222, found: true, record, by: 'peer2', idSeq: [0, 1] });
const MIXED: Message[] = [cmd(1), res(2), { t: 'ack', rid: 3, more: [4, 5] }, result(6), cmd(7)];

const bytesOf = (msgs: Message[]): Buffer => pack(msgs.map((m) => encode(m)));
const A: Addr = { ip: '127.0.0.1', port: 5001 };
const B: Addr = { ip: '127.0.0.1', port: 5003 };

describe('a datagram of several messages', () => {
  it('gives back every message, in order, each as its own encoding', () => {
    const got = unpack(bytesOf(MIXED));
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.msgs.map((m) => (m.ok ? m.msg : m.reason))).toEqual(MIXED);
    // Each line's bytes are the message's own encoding: the event log hashes them at both ends.
    expect(got.msgs.map((m) => m.bytes.toString())).toEqual(MIXED.map((m) => encode(m).toString()));
  });

  it('round-trips any list of query messages that fits a datagram', () => {
    const one = fc.oneof(fc.nat({ max: 2 ** 40 }).map(cmd), fc.nat({ max: 2 ** 40 }).map(res), fc.nat({ max: 2 ** 40 }).map(result));
    fc.assert(fc.property(fc.array(one, { minLength: 2, maxLength: 6 }), (msgs) => {
      const bytes = bytesOf(msgs);
      fc.pre(bytes.length <= HARD_MAX_PAYLOAD);
      const got = unpack(bytes);
      expect(got.ok && got.msgs.map((m) => (m.ok ? m.msg : m.reason))).toEqual(msgs);
    }));
  });

  it('is told apart from a single message and from a store frame', () => {
    expect(isPack(encode(cmd(1)))).toBe(false);
    const store = encode({ t: 'store', rid: 9, epoch: 1, to: 2, sec: CAP, recs: '10096222,OKLAHOMA,1950,April,Tornado,C,WASHITA,0,0,0,0,250K,0,F3\n10096223,TEXAS,1950,May,Hail,C,X,0,0,0,0,0,0,' });
    expect(isPack(store)).toBe(false);
    expect(decode(store).ok).toBe(true);
    expect(isPack(bytesOf([cmd(1), cmd(2)]))).toBe(true);
    // A single message is sent as it always was: no newline, the codec reads it.
    expect(pack([encode(cmd(1))]).equals(encode(cmd(1)))).toBe(true);
  });

  it('takes the good lines and refuses a bad one with its line number and reason', () => {
    const bad = Buffer.from(`${encode(cmd(1))}\n{"t":"cmd","rid":-1,"cmd":"x","args":[]}\n${encode(cmd(3))}`);
    const got = unpack(bad);
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.msgs.map((m) => m.ok)).toEqual([true, false, true]);
    expect(got.msgs[1]!.ok === false && got.msgs[1]!.reason).toMatch(/^line 2 of 3: bad cmd: /);
    const notJson = unpack(Buffer.from(`${encode(cmd(1))}\nnot json`));
    expect(notJson.ok && notJson.msgs.map((m) => (m.ok ? 'ok' : m.reason))).toEqual(['ok', 'line 2 of 2: not JSON']);
  });

  it('refuses a store or a frag inside a pack, and takes the rest', () => {
    const storeLine = JSON.stringify({ t: 'store', rid: 9, epoch: 1, to: 2, sec: CAP, recs: '10096222,OKLAHOMA,1950,April,Tornado,C,WASHITA,0,0,0,0,250K,0,F3' });
    const fragLine = JSON.stringify({ t: 'frag', f: 1, i: 0, of: 2, d: 'eyJ0Ijoi' });
    const got = unpack(Buffer.from(`${encode(cmd(1))}\n${storeLine}\n${fragLine}`));
    expect(got.ok && got.msgs.map((m) => (m.ok ? m.msg.t : m.reason))).toEqual([
      'cmd', 'line 2 of 3: a store is never packed with other messages', 'line 3 of 3: a frag is never packed with other messages',
    ]);
  });

  it('never throws, whatever arrives (short, binary, newlines anywhere)', () => {
    expect(isPack(Buffer.from('{\n}'))).toBe(true);
    expect(unpack(Buffer.from('{\n}'))).toEqual({ ok: false, reason: 'not JSON' });
    const lines = fc.array(fc.oneof(fc.constantFrom('{"t":"ack","rid":1}', '{"t":"store",', '', '{', '"x"', '[]', 'null'), fc.string({ maxLength: 30 })), { maxLength: 40 });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), lines.map((l) => Buffer.from(l.join('\n')))), (bytes) => {
      if (isPack(bytes)) unpack(bytes);
    }));
  });

  it('refuses the whole datagram: too many lines, too large, or not JSON from its first line', () => {
    const many = Array.from({ length: MAX_PACKED + 1 }, () => '{"t":"ack","rid":1}').join('\n');
    expect(unpack(Buffer.from(many))).toEqual({ ok: false, reason: `more than ${MAX_PACKED} messages in one datagram` });
    expect(unpack(Buffer.from(Array.from({ length: MAX_PACKED }, () => '{"t":"ack","rid":1}').join('\n'))).ok).toBe(true);
    const huge = Buffer.from(`${encode(cmd(1))}\n${' '.repeat(HARD_MAX_PAYLOAD)}`);
    expect(unpack(huge)).toEqual({ ok: false, reason: `oversized datagram (${huge.length} bytes > ${HARD_MAX_PAYLOAD})` });
    // One object written over several lines (some other tool): not a pack, refused as before.
    expect(unpack(Buffer.from('{\n"t":"ack",\n"rid":1}'))).toEqual({ ok: false, reason: 'not JSON' });
    // A final newline ends the last line; it adds no empty message.
    const trailing = unpack(Buffer.from(`${encode(cmd(1))}\n${encode(cmd(2))}\n`));
    expect(trailing.ok && trailing.msgs.length).toBe(2);
  });
});

describe('the sender queue', () => {
  function queue(maxPayload = DEFAULT_MAX_PAYLOAD) {
    const out: { to: Addr; bytes: Buffer }[] = [];
    const q = new Coalescer<string>(maxPayload, (_socket, to, bytes) => void out.push({ to, bytes }));
    return { q, out };
  }
  const messagesTo = (out: { to: Addr; bytes: Buffer }[], to: Addr): Message[] => out.filter((o) => o.to === to).flatMap((o) => {
    const u = unpack(o.bytes);
    if (isPack(o.bytes) && u.ok) return u.msgs.map((m) => (m.ok ? m.msg : ({} as Message)));
    const d = decode(o.bytes);
    return d.ok ? [d.msg as Message] : [];
  });

  it('sends one datagram per destination at the end of the turn, each destination in order', () => {
    const { q, out } = queue();
    const sent: Message[] = [cmd(1), res(2), cmd(3), res(4), cmd(5)];
    sent.forEach((m, i) => q.add('p', i % 2 === 0 ? A : B, encode(m)));
    expect(out).toEqual([]);
    q.flush();
    expect(out.length).toBe(2);
    expect(messagesTo(out, A)).toEqual([cmd(1), cmd(3), cmd(5)]);
    expect(messagesTo(out, B)).toEqual([res(2), res(4)]);
    expect(q.pending).toBe(false);
  });

  it('never exceeds the payload limit nor MAX_PACKED messages, and loses nothing', () => {
    fc.assert(fc.property(fc.integer({ min: 512, max: 8192 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 200 }), (limit, kinds) => {
      const { q, out } = queue(limit);
      const sent = kinds.map((k, i) => (k === 0 ? cmd(i) : k === 1 ? res(i) : k === 2 ? result(i) : ({ t: 'ack', rid: i } as Message)));
      for (const m of sent) q.add('p', A, encode(m));
      q.flush();
      for (const o of out) {
        expect(o.bytes.length).toBeLessThanOrEqual(limit);
        expect(o.bytes.toString().split('\n').length).toBeLessThanOrEqual(MAX_PACKED);
      }
      expect(messagesTo(out, A)).toEqual(sent);
    }));
  });

  it('sends what waits for one destination before a datagram that travels alone', () => {
    const { q, out } = queue();
    q.add('p', A, encode(cmd(1)));
    q.add('p', B, encode(cmd(2)));
    q.flushTo('p', A);
    expect(messagesTo(out, A)).toEqual([cmd(1)]);
    expect(messagesTo(out, B)).toEqual([]);
    q.flush();
    expect(messagesTo(out, B)).toEqual([cmd(2)]);
  });

  it('keeps the two sockets of a peer apart', () => {
    const { q, out } = queue();
    q.add('m', A, encode(cmd(1)));
    q.add('p', A, encode(cmd(2)));
    q.flush();
    expect(out.length).toBe(2);
  });
});
