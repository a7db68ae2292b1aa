// Keyed mode (PROTOCOL §2.5): a sealed datagram opens once, at the socket it was sent to, with a
// key of the keyring, from a sender whose clock is close; anything else is refused with a reason.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Keyed, HEADER_BYTES, SEAL_OVERHEAD, FRESHNESS_S, type KeyedOptions, type Opened } from '../../../src/crypto/seal.js';
import { makeKey, type Keyring } from '../../../src/crypto/keyring.js';
import { WINDOW_REACH } from '../../../src/crypto/replay.js';
import type { Addr } from '../../../src/reliable/index.js';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const OTHER_CLUSTER = randomBytes(32);
const A: Addr = { ip: '10.0.0.1', port: 31001 };
const B: Addr = { ip: '10.0.0.2', port: 31002 };
const C: Addr = { ip: '10.0.0.3', port: 31003 };
const T0 = 1_700_000_000_000;

const ring = (...secrets: Buffer[]): Keyring => ({ keys: secrets.map(makeKey), source: 'test' });
const keyed = (secrets: Buffer[], options: KeyedOptions = {}): Keyed => new Keyed(ring(...secrets), { now: () => T0, ...options });
const opened = (r: Opened): string => (r.ok ? r.plain.toString() : `refused ${r.kind}`);

describe('keyed: round trip', () => {
  it('what A seals to B, B opens, adding 43 bytes', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const plain = Buffer.from('{"t":"ack","rid":7}');
    const sealed = a.seal(B, plain);
    expect(sealed.length).toBe(plain.length + SEAL_OVERHEAD);
    expect(sealed.includes(plain)).toBe(false);
    expect(opened(b.open(A, B, sealed))).toBe(plain.toString());
  });

  it('any payload up to 8 KB (the largest datagram) comes back byte for byte', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8192 }), (bytes) => {
      const r = b.open(A, B, a.seal(B, Buffer.from(bytes)));
      expect(r.ok && r.plain.equals(Buffer.from(bytes))).toBe(true);
    }));
  });

  it('a socket on 0.0.0.0 checks the port only; another port or address is refused', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    expect(b.open(A, { ip: '0.0.0.0', port: B.port }, a.seal(B, Buffer.from('x'))).ok).toBe(true);
    expect(opened(b.open(A, C, a.seal(B, Buffer.from('x'))))).toBe('refused misaddressed');
    expect(opened(b.open(A, { ip: B.ip, port: C.port }, a.seal(B, Buffer.from('x'))))).toBe('refused misaddressed');
    expect(opened(b.open(A, { ip: '0.0.0.0', port: C.port }, a.seal(B, Buffer.from('x'))))).toBe('refused misaddressed');
  });

  it('a socket whose address is not dotted IPv4 (never on udp4) takes nothing', () => {
    const a = keyed([OLD]);
    expect(opened(keyed([OLD]).open(A, { ip: '::1', port: B.port }, a.seal(B, Buffer.from('x'))))).toBe('refused misaddressed');
    expect(opened(keyed([OLD]).open(A, { ip: '10.0.0.258', port: B.port }, a.seal(B, Buffer.from('x'))))).toBe('refused misaddressed');
  });

  it('a plain datagram, a short one and one of another version are refused', () => {
    const b = keyed([OLD]);
    expect(opened(b.open(A, B, Buffer.from('{"t":"ack","rid":7}')))).toBe('refused plain');
    expect(opened(b.open(A, B, Buffer.alloc(SEAL_OVERHEAD - 1, 0xd1)))).toBe('refused short');
    expect(opened(b.open(A, B, Buffer.alloc(100, 0xd2)))).toBe('refused not-sealed');
    expect(opened(b.open(A, B, Buffer.alloc(65_000 + SEAL_OVERHEAD + 1, 0xd1)))).toBe('refused oversized'); // above the largest local store batch
  });

  it('sent as parts (header, ciphertext, tag), a datagram is the same bytes and every counter is used once, in order', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const counters: number[] = [];
    for (let i = 0; i < 5; i++) {
      const parts = a.sealParts(i % 2 ? B : C, Buffer.from(`datagram ${i}`));
      expect(parts.map((p) => p.length)).toEqual([HEADER_BYTES, `datagram ${i}`.length, SEAL_OVERHEAD - HEADER_BYTES]);
      const sealed = Buffer.concat(parts);
      counters.push(sealed.readUInt32BE(13));
      expect(opened(b.open(A, i % 2 ? B : C, sealed))).toBe(`datagram ${i}`);
    }
    expect(counters).toEqual([0, 1, 2, 3, 4]);
  });

  it('past counter 2^32 − 1 a sender takes a new sender id, and both sides of the change open', () => {
    const a = keyed([OLD], { counter: 0xffff_ffff });
    const b = keyed([OLD]);
    const last = a.seal(B, Buffer.from('last'));
    const next = a.seal(B, Buffer.from('next'));
    expect(last.readUInt32BE(13)).toBe(0xffff_ffff);
    expect(next.readUInt32BE(13)).toBe(0);
    expect(next.subarray(5, 13).equals(last.subarray(5, 13))).toBe(false);
    expect(opened(b.open(A, B, last))).toBe('last');
    expect(opened(b.open(A, B, next))).toBe('next');
  });
});

describe('keyed: mutated datagrams', () => {
  it('every single-bit flip of header, body and tag is refused, and the original still opens', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const sealed = a.seal(B, Buffer.from('{"t":"find-event","rid":1,"id":5536849,"from":{"name":"p","ip":"10.0.0.1","port":1}}'));
    const kinds = new Set<string>();
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const r = b.open(A, B, bad);
      expect(r.ok, `bit ${bit} (byte ${bit >> 3})`).toBe(false);
      if (!r.ok) kinds.add(r.kind);
    }
    expect(kinds).toContain('forged');
    expect(kinds).toContain('unknown-key');
    expect(b.open(A, B, sealed).ok).toBe(true);
  });

  it('random changes (xor, truncation, extension) are refused', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 1400 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('xor', 'cut', 'grow'),
      (plain, at, x, how) => {
        const sealed = a.seal(B, Buffer.from(plain));
        const i = at % sealed.length;
        let bad = Buffer.from(sealed);
        if (how === 'xor') bad[i]! ^= x;
        else if (how === 'cut') bad = bad.subarray(0, Math.max(0, i));
        else bad = Buffer.concat([bad, Buffer.alloc(1 + (x % 16), x)]);
        expect(b.open(A, B, bad).ok).toBe(false);
      }));
  });
});

describe('keyed: other clusters', () => {
  it("another cluster's key is refused by its key id, before any decryption", () => {
    const r = keyed([OLD]).open(A, B, keyed([OTHER_CLUSTER]).seal(B, Buffer.from('x')));
    expect(opened(r)).toBe('refused unknown-key');
  });

  it('the same key with another cluster label fails authentication', () => {
    const r = keyed([OLD], { label: 'ringdht' }).open(A, B, keyed([OLD], { label: 'staging' }).seal(B, Buffer.from('x')));
    expect(opened(r)).toBe('refused forged');
  });

  it('a forged key id (claiming our key) over another key\'s ciphertext fails authentication', () => {
    const sealed = keyed([OTHER_CLUSTER]).seal(B, Buffer.from('x'));
    makeKey(OLD).id.copy(sealed, 1);
    expect(opened(keyed([OLD]).open(A, B, sealed))).toBe('refused forged');
  });
});

describe('keyed: replay', () => {
  it('the same datagram twice: the second is refused', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const sealed = a.seal(B, Buffer.from('once'));
    expect(opened(b.open(A, B, sealed))).toBe('once');
    expect(opened(b.open(A, B, sealed))).toBe('refused replayed');
    expect(opened(b.open(C, B, sealed))).toBe('refused replayed'); // from anywhere
  });

  it('an old datagram, never delivered, is refused once it falls below the window', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const old = a.seal(B, Buffer.from('old'));
    for (let i = 0; i < WINDOW_REACH; i++) a.seal(B, Buffer.from('skipped'));
    expect(b.open(A, B, a.seal(B, Buffer.from('newest'))).ok).toBe(true);
    expect(opened(b.open(A, B, old))).toBe('refused too-old');
  });

  it('reordered within the window: every datagram opens once, and each again is refused', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 2000 }), fc.infiniteStream(fc.nat()), (n, gap, seeds) => {
      const a = keyed([OLD]);
      const b = keyed([OLD]);
      for (let i = 0; i < gap; i++) a.seal(B, Buffer.alloc(0));
      const sent = Array.from({ length: n }, (_, i) => a.seal(B, Buffer.from(String(i))));
      const order = [...sent];
      const it = seeds[Symbol.iterator]();
      for (let i = order.length - 1; i > 0; i--) {
        const j = it.next().value! % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const d of order) expect(b.open(A, B, d).ok).toBe(true);
      for (const d of order) expect(opened(b.open(A, B, d))).toBe('refused replayed');
    }), { numRuns: 50 });
  });

  it('senders interleaved at random: each datagram opens once, and each again is refused', () => {
    // The receiver recognises the sender it heard last without a map look-up: switching between
    // senders, and replays of any of them in between, must not confuse their windows. Sender ids
    // that share one half with another's, so that each half must be compared.
    const ids = ['0000000100000001', '0000000200000001', '0000000100000002'];
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(2), fc.boolean()), { minLength: 1, maxLength: 60 }), (script) => {
      const senders = ids.map((id) => keyed([OLD], { random: () => Buffer.from(id, 'hex') }));
      const b = keyed([OLD]);
      const sent: Buffer[] = [];
      for (const [who, replay] of script) {
        if (replay && sent.length > 0) {
          expect(opened(b.open(A, B, sent[who % sent.length]!))).toBe('refused replayed');
        } else {
          const d = senders[who]!.seal(B, Buffer.from(String(who)));
          expect(opened(b.open(A, B, d))).toBe(String(who));
          sent.push(d);
        }
      }
      for (const d of sent) expect(opened(b.open(A, B, d))).toBe('refused replayed');
    }), { numRuns: 100 });
  });

  it('a datagram to B replayed to C (source forged as A) is refused', () => {
    const a = keyed([OLD]);
    const c = keyed([OLD]);
    expect(c.open(A, C, a.seal(C, Buffer.from('to C'))).ok).toBe(true);
    expect(opened(c.open(A, C, a.seal(B, Buffer.from('to B'))))).toBe('refused misaddressed');
  });
});

describe('keyed: freshness', () => {
  it(`a sender clock more than ${FRESHNESS_S} s away either way is refused; within it, accepted`, () => {
    const b = keyed([OLD]);
    const from = (offsetS: number): Keyed => keyed([OLD], { now: () => T0 + offsetS * 1000 });
    expect(b.open(A, B, from(-FRESHNESS_S).seal(B, Buffer.from('x'))).ok).toBe(true);
    expect(b.open(A, B, from(FRESHNESS_S).seal(B, Buffer.from('x'))).ok).toBe(true);
    expect(opened(b.open(A, B, from(-FRESHNESS_S - 2).seal(B, Buffer.from('x'))))).toBe('refused stale');
    expect(opened(b.open(A, B, from(FRESHNESS_S + 2).seal(B, Buffer.from('x'))))).toBe('refused stale');
  });

  it('after a receiver restart (empty windows) a replay is accepted only within the freshness window', () => {
    let now = T0;
    const a = keyed([OLD]);
    const captured = a.seal(B, Buffer.from('captured'));
    expect(keyed([OLD]).open(A, B, captured).ok).toBe(true);
    // The documented residual: a restarted receiver has no window for A yet.
    const restarted = keyed([OLD], { now: () => now });
    expect(restarted.open(A, B, captured).ok).toBe(true);
    now += (FRESHNESS_S + 2) * 1000;
    expect(opened(keyed([OLD], { now: () => now }).open(A, B, captured))).toBe('refused stale');
  });

  it('the header is authenticated: a refreshed timestamp fails', () => {
    const sealed = keyed([OLD], { now: () => T0 - 600_000 }).seal(B, Buffer.from('x'));
    sealed.writeUInt32BE(T0 / 1000, 17);
    expect(opened(keyed([OLD]).open(A, B, sealed))).toBe('refused forged');
    expect(HEADER_BYTES).toBe(27);
  });
});

describe('keyed: rotation', () => {
  it('a receiver holding [new, old] opens senders still on [old] and already on [new]', () => {
    const b = keyed([NEW, OLD]);
    expect(opened(b.open(A, B, keyed([OLD]).seal(B, Buffer.from('old'))))).toBe('old');
    expect(opened(b.open(C, B, keyed([NEW]).seal(B, Buffer.from('new'))))).toBe('new');
  });

  it('a sender on [new] is opened by receivers on [old, new] and [new]; refused by [old]', () => {
    const a = keyed([NEW]);
    expect(keyed([OLD, NEW]).open(A, B, a.seal(B, Buffer.from('x'))).ok).toBe(true);
    expect(keyed([NEW]).open(A, B, a.seal(B, Buffer.from('x'))).ok).toBe(true);
    expect(opened(keyed([OLD]).open(A, B, a.seal(B, Buffer.from('x'))))).toBe('refused unknown-key');
  });

  it('the three steps keep every pair of members talking', () => {
    const steps = [[[OLD], [OLD, NEW]], [[OLD, NEW], [NEW, OLD]], [[NEW, OLD], [NEW]]];
    for (const [before, after] of steps) {
      for (const s of [before!, after!]) for (const r of [before!, after!]) {
        expect(keyed(r).open(A, B, keyed(s).seal(B, Buffer.from('x'))).ok).toBe(true);
      }
    }
  });
});

describe('keyed: rotation in a running process', () => {
  it('rekeying through the three steps loses nothing in flight and lets no earlier datagram in again', () => {
    const a = keyed([OLD]);
    const b = keyed([OLD]);
    const before = a.seal(B, Buffer.from('before'));
    expect(b.open(A, B, before).ok).toBe(true);
    const inFlight = a.seal(B, Buffer.from('in flight'));
    b.rekey(ring(OLD, NEW));
    a.rekey(ring(OLD, NEW));
    expect(opened(b.open(A, B, inFlight))).toBe('in flight');
    a.rekey(ring(NEW, OLD)); // a seals with the new key first; b still lists it second
    const sealedNew = a.seal(B, Buffer.from('new'));
    expect(sealedNew.subarray(1, 5)).toEqual(makeKey(NEW).id);
    expect(opened(b.open(A, B, sealedNew))).toBe('new');
    b.rekey(ring(NEW, OLD));
    const late = a.seal(B, Buffer.from('late'));
    b.rekey(ring(NEW));
    a.rekey(ring(NEW));
    expect(opened(b.open(A, B, late))).toBe('late');
    // Windows survived every step: nothing from before is taken again; the old key opens nothing now.
    expect(opened(b.open(A, B, sealedNew))).toBe('refused replayed');
    expect(opened(b.open(A, B, before))).toBe('refused unknown-key');
    expect(b.describe()).toMatch(/^keyed mode: 1 key from test, sealing with key [0-9a-f]{8} \(aes-256-gcm\)$/);
  });
});

describe('keyed: bounded', () => {
  it('the sender heard last is never the one forgotten, however often it is heard in a row', () => {
    const b = keyed([OLD], { maxSenders: 2 });
    const [s1, s2, s3] = [keyed([OLD]), keyed([OLD]), keyed([OLD])];
    const first = s1.seal(B, Buffer.from('1'));
    const second = s2.seal(B, Buffer.from('2'));
    expect(b.open(A, B, first).ok).toBe(true);
    expect(b.open(A, B, second).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect(b.open(A, B, s1.seal(B, Buffer.from('1 again'))).ok).toBe(true);
    expect(b.open(A, B, s3.seal(B, Buffer.from('3'))).ok).toBe(true);
    // s2 was heard least recently, so its window went; s1's stayed.
    expect(opened(b.open(A, B, first))).toBe('refused replayed');
    expect(b.open(A, B, second).ok).toBe(true);
  });

  it('senders interleaved under a small bound: a replay is refused exactly while its sender\'s window is kept', () => {
    // The receiver recognises its two most recent senders without a look-up; that shortcut must
    // agree with the bounded least-recently-heard table in every order, evictions included.
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.tuple(fc.nat(3), fc.boolean(), fc.nat()), { minLength: 1, maxLength: 60 }), (max, script) => {
      const senders = [0, 1, 2, 3].map(() => keyed([OLD]));
      const b = keyed([OLD], { maxSenders: max });
      const sent: { who: number; d: Buffer }[] = [];
      // The model: each kept window (least recently heard first) and the datagrams it has seen.
      const model = new Map<number, Set<Buffer>>();
      const heard = (who: number, d: Buffer): void => {
        const seen = model.get(who) ?? new Set<Buffer>();
        model.delete(who);
        if (!seen.size && model.size >= max) model.delete(model.keys().next().value as number);
        model.set(who, seen.add(d));
      };
      for (const [who, replay, pick] of script) {
        if (replay && sent.length > 0) {
          const old = sent[pick % sent.length]!;
          const r = b.open(A, B, old.d);
          if (model.get(old.who)?.has(old.d)) expect(opened(r)).toBe('refused replayed');
          else {
            expect(r.ok).toBe(true); // its window was forgotten since: only freshness stands (documented)
            heard(old.who, old.d);
          }
        } else {
          const d = senders[who]!.seal(B, Buffer.from(String(who)));
          expect(opened(b.open(A, B, d))).toBe(String(who));
          heard(who, d);
          sent.push({ who, d });
        }
      }
    }), { numRuns: 300 });
  });

  it('at most maxSenders replay windows are kept, the least recently heard forgotten first', () => {
    const b = keyed([OLD], { maxSenders: 2 });
    const senders = [keyed([OLD]), keyed([OLD]), keyed([OLD])];
    const first = senders[0]!.seal(B, Buffer.from('x'));
    expect(b.open(A, B, first).ok).toBe(true);
    for (const s of senders.slice(1)) expect(b.open(A, B, s.seal(B, Buffer.from('x'))).ok).toBe(true);
    // The first sender's window is gone: its replay is caught by freshness only (documented).
    expect(b.open(A, B, first).ok).toBe(true);
  });
});
