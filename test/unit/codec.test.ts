// The codec is the edge where untrusted bytes become typed messages (SPEC §7: bad input never
// crashes a process). Property-based: whatever arrives, decode returns a verdict and never throws;
// whatever it accepts is a schema-valid message; every valid message survives the round trip.
import { frameLine, toLine } from '../../src/data/line.js';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import type { TObject } from '@sinclair/typebox';
import { decode, encode, DEFAULT_MAX_PAYLOAD, HARD_MAX_PAYLOAD, type DecodedDatagram } from '../../src/protocol/codec.js';
import { SCHEMAS, MAX_FRAME, MAX_RID, type Datagram, type MessageType, type Tuple } from '../../src/protocol/messages.js';

const TYPES = Object.keys(SCHEMAS) as MessageType[];

const t1: Tuple = { name: 'peer1', ip: '127.0.0.1', port: 6001 };
const t2: Tuple = { name: 'peer2', ip: '10.0.0.2', port: 6003 };
const t3: Tuple = { name: 'Zed9', ip: '192.168.100.200', port: 65535 };
/** A token or secret as the programs make them: 16 random bytes, base64url. */
const SEC = 'q3JxV0n8rXo2b5m1c9KdAw';
const TOK = 'Zb0kqT1x4yH7wP2eN6aLsg';
const record = ['10096222', 'OKLAHOMA', '1950', 'April', 'Tornado', 'C', 'WASHITA', '0', '0', '0', '0', '250K', '0', 'F3'];

/** A valid example of every message type, with optional fields both present and absent across the set. */
const EXAMPLES: Datagram[] = [
  { t: 'cmd', rid: 1, cmd: 'register', args: ['peer1', '127.0.0.1', '6000', '6001'] },
  { t: 'cmd', rid: MAX_RID, cmd: 'query-dht', args: [], tok: TOK },
  { t: 'res', rid: 2, cmd: 'setup-dht', code: 'SUCCESS', text: 'peer1 leads a DHT of 3', peers: [t1, t2, t3], dht: 1, sec: SEC, tok: TOK },
  { t: 'res', rid: 3, cmd: 'query-dht', code: 'SUCCESS', text: 'ask peer2', peer: t2, cap: SEC, tok: TOK },
  { t: 'res', rid: 4, cmd: 'register', code: 'FAILURE', reason: 'DUPLICATE_NAME', text: 'a peer named peer1 is already registered' },
  { t: 'dissolved', rid: 5, dht: 1, text: 'the manager gave up waiting', tok: TOK },
  { t: 'set-id', rid: 6, sec: SEC, id: 1, n: 3, peers: [t1, t2, t3], year: 1950, s: 449, epoch: 1, dht: 1 },
  { t: 'store', rid: 7, epoch: 1, to: 2, sec: SEC, recs: [toLine(record), toLine(record.map((f) => f.toLowerCase()))].join('\n') },
  { t: 'store', rid: 8, epoch: 2, to: 1, sec: SEC, recs: '' },
  { t: 'store-end', rid: 9, epoch: 1, sec: SEC, counts: [72, 75, 76] },
  { t: 'teardown', rid: 10, sec: SEC, origin: 'peer1', dissolve: true, epoch: 3 },
  { t: 'reset-id', rid: 11, sec: SEC, origin: t2, id: 0, n: 2, peers: [t1, t3], year: 1996, s: 97073, epoch: 4, dht: 1 },
  { t: 'rebuild-dht', rid: 12, sec: SEC, year: 2019, origin: t2 },
  { t: 'rebuild-done', rid: 13, sec: SEC, leader: 'peer1', ok: true, counts: [9711, 9691], text: 'rebuilt' },
  { t: 'join', rid: 14, sec: SEC, joiner: t3 },
  { t: 'find-event', rid: 15, qid: 99, eventId: 5536849, sender: t3, remaining: null, idSeq: [], cap: SEC },
  { t: 'find-event', rid: 16, qid: 99, eventId: 5536849, sender: t3, remaining: [0, 2], idSeq: [1], sec: SEC },
  { t: 'event-result', rid: 17, qid: 99, eventId: 5536849, found: true, record, idSeq: [1, 0] },
  { t: 'event-result', rid: 18, qid: 99, eventId: 55770111, found: false, idSeq: [1, 0, 2] },
  { t: 'ack', rid: 19 },
  { t: 'frag', f: 1, i: 0, of: 2, d: 'eyJ0IjoiYWNrIiwicmlkIjoxfQ==' },
  { t: 'store-failed', rid: 21, epoch: 1, sec: SEC, text: 'peer3 (127.0.0.1:5005) did not acknowledge store after 10 tries' },
  { t: 'cmd', rid: 24, cmd: 'dht-complete', args: ['peer1'], counts: [72, 75, 76] },
  { t: 'dht-notice', rid: 22, dht: 1, leader: t1, sec: SEC, tok: TOK },
  { t: 'join-notice', rid: 23, dht: 1, joiner: t3, tok: TOK },
  { t: 'repair', rid: 25, dht: 1, dead: 'peer3', tok: TOK },
  { t: 'alive', rid: 0, tok: TOK },
  { t: 'probe', rid: 0, tok: TOK },
  { t: 'ping-req', rid: 0, tok: TOK, nonce: TOK, ip: '127.0.0.1', port: 5005 },
  { t: 'ping', rid: 0, nonce: TOK },
  { t: 'pong', rid: 0, nonce: TOK },
  { t: 'alive', rid: 0, tok: TOK, nonce: TOK },
];

const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** What the bytes say: one JSON object, or a store frame (a JSON header line, then the records). */
function sentValue(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  const nl = text.indexOf('\n');
  if (nl >= 0) {
    try {
      const header = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
      if (header && header['t'] === 'store' && !Object.hasOwn(header, 'recs')) return { ...header, recs: text.slice(nl + 1) };
    } catch {
      // not a frame
    }
  }
  return JSON.parse(text);
}

/** The verdict contract: a known, schema-valid message equal to what was sent, or a non-empty reason. */
function expectVerdict(result: DecodedDatagram, bytes: Uint8Array): void {
  if (result.ok) {
    expect(TYPES).toContain(result.msg.t);
    expect(Value.Check(SCHEMAS[result.msg.t], result.msg), `accepted an invalid ${result.msg.t}`).toBe(true);
    expect(result.msg).toEqual(sentValue(bytes));
  } else {
    expect(typeof result.reason).toBe('string');
    expect(result.reason.length).toBeGreaterThan(0);
    expect(result.reason).not.toMatch(/\n/);
  }
}

describe('codec: every message type', () => {
  it('the examples cover every message type', () => {
    expect(new Set(EXAMPLES.map((m) => m.t))).toEqual(new Set(TYPES));
  });

  it.each(EXAMPLES.map((m) => [m.t, m] as const))('%s survives encode → decode unchanged', (_, msg) => {
    const bytes = encode(msg);
    expect(bytes.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
    expect(decode(bytes, DEFAULT_MAX_PAYLOAD)).toEqual({ ok: true, msg });
  });
});

// ---------------------------------------------------------------- hostile input

describe('codec: decode never throws', () => {
  it('for any bytes at all', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expectVerdict(decode(bytes), bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('for bytes that are a slice of a larger buffer (offset views)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(50), (tail, skip) => {
        const whole = Buffer.concat([Buffer.alloc(skip, 0x7b), encode(EXAMPLES[0]!), Buffer.from(tail)]);
        const view = new Uint8Array(whole.buffer, whole.byteOffset + skip, whole.length - skip - tail.length);
        expect(decode(view)).toEqual({ ok: true, msg: EXAMPLES[0] });
      }),
    );
  });

  it('for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = bytesOf(JSON.stringify(value) ?? 'null');
        expectVerdict(decode(bytes), bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('for any object that claims a known type', () => {
    const keys = fc.constantFrom('rid', 'cmd', 'args', 'code', 'reason', 'text', 'peers', 'peer', 'id', 'n', 'year', 's', 'epoch',
      'recs', 'counts', 'origin', 'dissolve', 'leader', 'ok', 'joiner', 'qid', 'eventId', 'sender', 'remaining', 'idSeq', 'found',
      'record', 'f', 'i', 'of', 'd', '__proto__', 'constructor');
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.dictionary(keys, fc.jsonValue({ maxDepth: 3 })), (t, rest) => {
        const bytes = bytesOf(JSON.stringify({ ...rest, t }));
        expectVerdict(decode(bytes), bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('for any text, including strings with lone surrogates and control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (s) => {
        const bytes = bytesOf(s);
        expectVerdict(decode(bytes), bytes);
      }),
    );
  });
});

// ---------------------------------------------------------------- mutated valid messages

type Path = (string | number)[];

/** Every path to a value inside a JSON tree (the root excluded). */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

function mutate(msg: unknown, path: Path, op: 'set' | 'delete', v?: unknown): unknown {
  const copy = structuredClone(msg) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (op === 'set') node[last] = v;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

const mutation = fc.constantFrom(...EXAMPLES).chain((msg) =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...paths(msg)), fc.jsonValue({ maxDepth: 2 })).map(([p, v]) => ({ msg, kind: 'set' as const, path: p, mutated: mutate(msg, p, 'set', v) })),
    fc.constantFrom(...paths(msg)).map((p) => ({ msg, kind: 'delete' as const, path: p, mutated: mutate(msg, p, 'delete') })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
      .filter(([k]) => !Object.hasOwn(msg, k))
      .map(([k, v]) => ({ msg, kind: 'extra' as const, path: [k] as Path, mutated: { ...msg, [k]: v } })),
  ),
);

describe('codec: mutated valid messages', () => {
  it('are accepted exactly when they are still schema-valid, otherwise rejected with a reason', () => {
    fc.assert(
      fc.property(mutation, ({ mutated }) => {
        // As one JSON object: a store is accepted in that form too, and it keeps every mutation.
        const bytes = bytesOf(JSON.stringify(mutated));
        const result = decode(bytes);
        expectVerdict(result, bytes);
        const sent = JSON.parse(Buffer.from(bytes).toString('utf8')) as { t?: unknown };
        const schema = typeof sent.t === 'string' && Object.hasOwn(SCHEMAS, sent.t) ? SCHEMAS[sent.t as MessageType] : null;
        expect(result.ok).toBe(schema !== null && Value.Check(schema, sent));
      }),
      { numRuns: 3000 },
    );
  });

  it('an extra top-level key is always rejected, naming the message type', () => {
    fc.assert(
      fc.property(mutation.filter((m) => m.kind === 'extra'), ({ msg, mutated }) => {
        const result = decode(bytesOf(JSON.stringify(mutated)));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason).toContain(`bad ${msg.t}`);
      }),
    );
  });

  it('deleting a required top-level field is always rejected', () => {
    fc.assert(
      fc.property(mutation.filter((m) => m.kind === 'delete' && m.path.length === 1), ({ msg, path, mutated }) => {
        // A union (the store frame, plain or compressed): what every form requires.
        const schema = SCHEMAS[msg.t] as TObject & { anyOf?: TObject[] };
        const required = schema.anyOf ? schema.anyOf.map((f) => f.required ?? []).reduce((a, b) => a.filter((k) => b.includes(k))) : schema.required ?? [];
        const result = decode(bytesOf(JSON.stringify(mutated)));
        if (required.includes(path[0] as string)) expect(result.ok).toBe(false);
        else expect(result).toEqual({ ok: true, msg: mutated });
      }),
    );
  });

  it.each([
    ['a negative rid', { ...EXAMPLES[0], rid: -1 }, '/rid'],
    ['a rid above 2^48', { ...EXAMPLES[0], rid: MAX_RID + 1 }, '/rid'],
    ['a fractional rid', { ...EXAMPLES[0], rid: 1.5 }, '/rid'],
    ['a string rid', { ...EXAMPLES[0], rid: '1' }, '/rid'],
    ['a port of 0 in a tuple', { ...EXAMPLES[14], joiner: { ...t1, port: 0 } }, '/joiner/port'],
    ['a port of 65536 in a tuple', { ...EXAMPLES[14], joiner: { ...t1, port: 65536 } }, '/joiner/port'],
    ['a peer name starting with a digit', { ...EXAMPLES[14], joiner: { ...t1, name: '1peer' } }, '/joiner/name'],
    ['an IPv4 that is a host name', { ...EXAMPLES[14], joiner: { ...t1, ip: 'example.com' } }, '/joiner/ip'],
    ['a record line that does not start with its event id', { ...EXAMPLES[7], recs: toLine(record.slice(1)) }, '/recs'],
    ['a store for node 256', { ...EXAMPLES[7], to: 256 }, '/to'],
    ['a response code other than SUCCESS/FAILURE', { ...EXAMPLES[2], code: 'MAYBE' }, '/code'],
    ['a text over 300 characters', { ...EXAMPLES[5], text: 'x'.repeat(301) }, '/text'],
    ['a ring of 257 tuples', { ...EXAMPLES[6], peers: Array(257).fill(t1) }, '/peers'],
    ['a fragment with non-base64 data', { ...EXAMPLES[20], d: 'not base64!' }, '/d'],
  ])('%s is rejected, and the reason names the field', (_, value, field) => {
    const result = decode(bytesOf(JSON.stringify(value)), 64 * 1024);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(field);
  });
});

// ---------------------------------------------------------------- generated valid messages

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,14}$/);
const tuple = fc.record({ name, ip: fc.ipV4(), port: fc.integer({ min: 1, max: 65535 }) });
const rid = fc.integer({ min: 0, max: MAX_RID });
const field = fc.string({ unit: 'binary', maxLength: 40 });
const rec = fc.array(field, { minLength: 14, maxLength: 14 });
/** Tokens and secrets: 16–44 characters of base64url. */
const secret = fc.stringMatching(/^[A-Za-z0-9_-]{16,44}$/);
const nodeIds = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 });

const validMessage: fc.Arbitrary<Datagram> = fc.oneof(
  fc.record({ t: fc.constant('cmd' as const), rid, cmd: fc.stringMatching(/^[a-z-]{1,20}$/), args: fc.array(fc.stringMatching(/^[!-~]{0,64}$/), { maxLength: 8 }),
    counts: fc.array(fc.nat(1e9), { maxLength: 256 }) }, { requiredKeys: ['t', 'rid', 'cmd', 'args'] }),
  fc.record({ t: fc.constant('res' as const), rid, cmd: fc.string({ maxLength: 20 }), code: fc.constantFrom('SUCCESS' as const, 'FAILURE' as const),
    reason: fc.string({ maxLength: 30 }), text: fc.string({ unit: 'binary', maxLength: 300 }).map((t) => t.replace(/[\x00-\x1f\x7f]/g, ' ')), peers: fc.array(tuple, { minLength: 1, maxLength: 5 }), peer: tuple, tok: secret, sec: secret, cap: secret },
  { requiredKeys: ['t', 'rid', 'cmd', 'code', 'text'] }),
  fc.record({ t: fc.constant('set-id' as const), rid, id: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 1, max: 256 }),
    peers: fc.array(tuple, { minLength: 1, maxLength: 10 }), year: fc.integer({ min: 1950, max: 2019 }), s: fc.nat(1e9), epoch: fc.nat(1e9), dht: fc.nat(1e9), sec: secret }),
  fc.record({ t: fc.constant('store' as const), rid, epoch: fc.nat(1e9), to: fc.integer({ min: 0, max: 255 }),
    sec: secret, recs: fc.array(fc.tuple(fc.nat(), rec).map(([id, r]) => frameLine(toLine([String(id), ...r.slice(1)]))), { maxLength: 3 }).map((ls) => ls.join('\n')) }),
  // Compressed (`z`): the body is any bytes, one latin1 character each (the codec never inflates).
  fc.record({ t: fc.constant('store' as const), rid, epoch: fc.nat(1e9), to: fc.integer({ min: 0, max: 255 }), sec: secret,
    recs: fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')), z: fc.integer({ min: 1, max: MAX_FRAME }), n: fc.integer({ min: 1, max: MAX_FRAME }), of: fc.integer({ min: 0, max: 255 }) },
  { requiredKeys: ['t', 'rid', 'epoch', 'to', 'sec', 'recs', 'z', 'n'] }),
  fc.record({ t: fc.constant('find-event' as const), rid, qid: rid, eventId: fc.maxSafeNat(), sender: tuple,
    remaining: fc.option(nodeIds, { nil: null }), idSeq: nodeIds, cap: secret, sec: secret }, { requiredKeys: ['t', 'rid', 'qid', 'eventId', 'sender', 'remaining', 'idSeq'] }),
  fc.record({ t: fc.constant('dht-notice' as const), rid, dht: fc.nat(1e9), leader: tuple, sec: secret, tok: secret }),
  fc.record({ t: fc.constant('event-result' as const), rid, qid: rid, eventId: fc.maxSafeNat(), found: fc.boolean(), record: rec, idSeq: nodeIds },
    { requiredKeys: ['t', 'rid', 'qid', 'eventId', 'found', 'idSeq'] }),
  fc.record({ t: fc.constant('ack' as const), rid }),
);

describe('codec: round trip of generated valid messages', () => {
  it('decode(encode(m)) equals m for any valid message', () => {
    fc.assert(
      fc.property(validMessage, (msg) => {
        expect(decode(encode(msg), HARD_MAX_PAYLOAD * 4)).toEqual({ ok: true, msg });
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- clear rejections

describe('codec: clear reasons', () => {
  it('oversized datagrams are rejected before parsing, with the sizes', () => {
    const big = encode({ t: 'dissolved', rid: 1, dht: 1, text: 'x'.repeat(290), tok: TOK });
    const limit = big.length - 1;
    const result = decode(big, limit);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('oversized') });
    if (!result.ok) expect(result.reason).toContain(String(big.length));
    expect(decode(big, big.length).ok, 'exactly at the limit is fine').toBe(true);
  });

  it('the hard ceiling applies when no limit is given', () => {
    const bytes = bytesOf(JSON.stringify({ t: 'ack', rid: 1, pad: 'x'.repeat(HARD_MAX_PAYLOAD) }));
    const result = decode(bytes);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/oversized/);
  });

  it('oversized holds for any payload above the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1400 }), fc.integer({ min: 1, max: 300 }), (limit, extra) => {
        const result = decode(new Uint8Array(limit + extra).fill(0x20), limit);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason).toMatch(/^oversized/);
      }),
    );
  });

  it.each([
    ['an empty datagram', '', /empty/],
    ['text that is not JSON', 'register peer1 127.0.0.1 6000 6001', /not JSON/],
    ['truncated JSON', '{"t":"ack","rid":1', /not JSON/],
    ['a JSON array', '[{"t":"ack","rid":1}]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['a JSON number', '42', /not a JSON object/],
    ['an unknown type', '{"t":"bogus","rid":1}', /unknown message type "bogus"/],
    ['a missing type', '{"rid":1}', /unknown message type/],
    ['a non-string type', '{"t":7,"rid":1}', /unknown message type 7/],
    ['an inherited property name as type', '{"t":"constructor","rid":1}', /unknown message type "constructor"/],
    ['a __proto__ type', '{"t":"__proto__","rid":1}', /unknown message type "__proto__"/],
    ['a known type with a wrong field type', '{"t":"ack","rid":"one"}', /^bad ack: \/rid/],
  ])('%s is rejected: %s', (_, text, reason) => {
    const result = decode(bytesOf(text));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('a huge unknown type is quoted briefly, not echoed whole', () => {
    const result = decode(bytesOf(JSON.stringify({ t: 'y'.repeat(5000), rid: 1 })));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeLessThan(100);
  });
});
