// Partial messages are bounded in bytes and in age as well as in count: a flood of fragments
// that never complete cannot grow a process (it once went from 60 MB to 631 MB), and a genuine
// message still comes through after it.
import { describe, it, expect } from 'vitest';
import { Wire, MAX_PARTIAL_BYTES, PARTIAL_TTL_MS } from '../../src/protocol/wire.js';
import { DEFAULT_MAX_PAYLOAD } from '../../src/protocol/codec.js';
import type { MessageOf } from '../../src/protocol/messages.js';
import type { Addr } from '../../src/reliable/index.js';

const FROM: Addr = { ip: '10.0.0.1', port: 6001 };
const frag = (f: number, i: number, of: number, d: string): Buffer => Buffer.from(JSON.stringify({ t: 'frag', f, i, of, d }));
const big = 'A'.repeat(8000); // near the largest a datagram (8,192 bytes) can carry

const setId = (n: number): MessageOf<'set-id'> => ({
  t: 'set-id', rid: 99, id: 1, n, year: 1996, s: 97073, epoch: 1, dht: 1, sec: 'wireBoundsSecretAAAAAA',
  peers: Array.from({ length: n }, (_, i) => ({ name: `peer${i}`, ip: `10.0.${i >> 8}.${i & 255}`, port: 20000 + i })),
});

describe('wire: bounded partial messages', () => {
  it('a flood of fragments that never complete stays within the byte budget and the count', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    for (let k = 0; k < 20_000; k++) {
      const from = { ip: `10.9.${(k >> 8) & 255}.${k & 255}`, port: 7000 };
      expect(rx.receive(from, frag(k, k % 63, 64, big), k).ok).toBe('partial');
      const held = rx.held();
      expect(held.bytes).toBeLessThanOrEqual(MAX_PARTIAL_BYTES);
      expect(held.partials).toBeLessThanOrEqual(256);
    }
    // Afterwards a genuine ring-sized message still gets through whole.
    const msg = setId(200);
    const got = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg).map((d) => rx.receive(FROM, d, 20_000));
    expect(got.at(-1)).toEqual({ ok: true, msg });
  });

  it('one sender filling one message with many large pieces is bounded too', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    for (let f = 1; f <= 2000; f++) for (let i = 0; i < 63; i += 9) rx.receive(FROM, frag(f, i, 64, big));
    expect(rx.held().bytes).toBeLessThanOrEqual(MAX_PARTIAL_BYTES);
  });

  it('the same piece again and again does not add bytes', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    rx.receive(FROM, frag(1, 0, 2, big));
    const once = rx.held().bytes;
    for (let k = 0; k < 1000; k++) rx.receive(FROM, frag(1, 0, 2, big));
    expect(rx.held().bytes).toBe(once);
    rx.receive(FROM, frag(1, 0, 2, 'AAAA')); // a smaller replacement shrinks it
    expect(rx.held().bytes).toBe(once - big.length + 4);
  });

  it('a completed message gives back every byte it held', () => {
    const rx = new Wire(DEFAULT_MAX_PAYLOAD);
    const msg = setId(200);
    const pieces = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg);
    for (const d of pieces.slice(0, -1)) rx.receive(FROM, d, 0);
    expect(rx.held().bytes).toBeGreaterThan(0);
    expect(rx.receive(FROM, pieces.at(-1)!, 0)).toEqual({ ok: true, msg });
    expect(rx.held()).toEqual({ partials: 0, bytes: 0 });
  });

  it(`a partial message expires ${PARTIAL_TTL_MS / 1000} s after its first piece, when the caller gives the time`, () => {
    const msg = setId(200);
    const pieces = new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg);
    const young = new Wire(DEFAULT_MAX_PAYLOAD);
    const old = new Wire(DEFAULT_MAX_PAYLOAD);
    for (const rx of [young, old]) rx.receive(FROM, pieces[0]!, 1000);
    // Another sender's fragment at the later time triggers the expiry check.
    young.receive({ ip: '10.0.0.9', port: 1 }, frag(5, 0, 2, 'AAAA'), 1000 + PARTIAL_TTL_MS - 1);
    old.receive({ ip: '10.0.0.9', port: 1 }, frag(5, 0, 2, 'AAAA'), 1000 + PARTIAL_TTL_MS);
    expect(young.held().partials).toBe(2);
    expect(old.held().partials).toBe(1);
    const rest = (rx: Wire, now: number) => pieces.slice(1).map((d) => rx.receive(FROM, d, now)).at(-1);
    expect(rest(young, 1000 + PARTIAL_TTL_MS - 1)).toEqual({ ok: true, msg });
    expect(rest(old, 1000 + PARTIAL_TTL_MS)).toEqual({ ok: 'partial' }); // its first piece is gone: the message is lost, as a lost piece loses it
  });
});
