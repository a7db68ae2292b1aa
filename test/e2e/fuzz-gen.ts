// Seeded generators of bad datagrams for the fuzz test (fast-check, sampled with a fixed seed, so a
// run is reproducible). Each datagram is meant to be rejected or ignored by its target, never to
// change state. The few forgeries the protocol accepts from anyone by design, or by a documented
// weakness (docs/PROTOCOL.md §8: a `join` naming a new peer, a self-certifying `set-id` to a Free
// peer, `reset-id` at a waiting joiner, `rebuild-dht` naming the last renumberer, a `find-event`
// with a long `remaining` list), are left out here and tested on their own in impostor.test.ts.
import fc from 'fast-check';

export interface Tuple { name: string; ip: string; port: number }
export type TargetKind = 'manager' | 'mport' | 'pport';
export interface Target { kind: TargetKind; name: string; port: number }

export interface FuzzContext {
  /** The outsider socket the datagrams come from: never a ring member, never registered. */
  probe: Tuple;
  /** Every registered peer: name, m-port, p-port. */
  peers: { name: string; mport: number; pport: number }[];
  /** Peer names guaranteed to stay in the ring through the scenario (a `join` naming them is refused). */
  stayingMembers: string[];
  /** Genuine datagrams captured from the live system (responses, answers, acks), replayed verbatim. */
  captured: Buffer[];
}

export interface Datagram { category: string; bytes: Buffer }

const RID_MAX = 2 ** 48;
const ip = (): fc.Arbitrary<string> => fc.oneof(fc.constant('127.0.0.1'), fc.ipV4(), fc.constantFrom('999.1.1.1', '1.2.3', 'localhost', ''));
const rid = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: RID_MAX });
const ghostName = (): fc.Arbitrary<string> => fc.oneof(fc.constantFrom('ghost', 'mallory', 'eve', 'Peer99', 'x'), fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,14}$/));
/** Field values of the wrong JSON type for almost any field. */
const wrongValue = (): fc.Arbitrary<unknown> => fc.oneof(
  fc.constant(null), fc.boolean(), fc.string({ maxLength: 20 }), fc.double({ noNaN: true }), fc.integer({ min: -(2 ** 53), max: -1 }),
  fc.constant(2 ** 60), fc.array(fc.integer(), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.constant('∞'), fc.constant(1.5),
);

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return !Number.isInteger(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER ? 'real' : v < 0 ? 'negative' : 'integer';
  return typeof v;
}
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
/** A CSV record line as the store batches carry it. */
const recordLine = (): fc.Arbitrary<string> => fc.tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.array(fc.string({ maxLength: 12 }).map((s) => s.replace(/[,"\n\r]/g, '')), { minLength: 13, maxLength: 13 }))
  .map(([id, rest]) => [String(id), ...rest].join(','));

export function tupleArb(ctx: FuzzContext): fc.Arbitrary<Tuple> {
  return fc.oneof(
    fc.constantFrom(...ctx.peers.map((p) => ({ name: p.name, ip: '127.0.0.1', port: p.pport }))),
    fc.record({ name: ghostName(), ip: fc.constant('127.0.0.1'), port: fc.integer({ min: 1, max: 65535 }) }),
  );
}

/**
 * Well-typed peer-to-peer messages with values the receiver must refuse: they come from an
 * outsider (the probe), name rings the receiver is not in, or are internally inconsistent.
 */
export function forgedPeerMessage(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const tuple = tupleArb(ctx);
  const memberName = fc.constantFrom(...ctx.peers.map((p) => p.name));
  const realTuples = ctx.peers.map((p) => ({ name: p.name, ip: '127.0.0.1', port: p.pport }));
  const count = fc.integer({ min: 0, max: 1e9 });
  const year = fc.integer({ min: 1000, max: 9999 });
  const ringList = fc.array(tuple, { minLength: 1, maxLength: 8 });
  // set-id claiming to come from a real member (the source check refuses it) ...
  const setIdFromMember = fc.record({
    t: fc.constant('set-id'), rid: rid(), id: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 1, max: 256 }),
    peers: fc.shuffledSubarray(realTuples, { minLength: 1 }), year, s: count, epoch: count, dht: count,
  });
  // ... or naming the probe as leader but inconsistent: n ≠ |peers|, id ≥ n, a name twice, s < 2.
  const setIdInconsistent = fc.tuple(ringList, fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), count)
    .map(([rest, n, id, flaw, s]) => {
      const peers = [ctx.probe, ...rest];
      const m: Record<string, unknown> = { t: 'set-id', rid: 0, id, n, peers, year: 1996, s, epoch: 1, dht: 1 };
      if (flaw === 0 && n === peers.length) m['n'] = n === 256 ? 255 : n + 1; // n mismatching the list
      if (flaw === 1) { m['n'] = peers.length; m['id'] = Math.min(255, peers.length + id); } // id out of range
      if (flaw === 2) { m['n'] = peers.length + 1; m['peers'] = [...peers, peers[peers.length - 1]]; } // a peer twice
      if (flaw === 3) { m['n'] = peers.length + 1; m['peers'] = [...peers, ctx.probe]; m['s'] = s % 2; } // s < 2, probe twice
      return m;
    }).chain((m) => rid().map((r) => ({ ...m, rid: r })));
  return fc.oneof(
    setIdFromMember,
    setIdInconsistent,
    fc.record({ t: fc.constant('store'), rid: rid(), epoch: count, to: fc.integer({ min: 0, max: 255 }), recs: fc.array(recordLine(), { maxLength: 12 }).map((ls) => ls.join('\n')) }),
    fc.record({ t: fc.constant('store-end'), rid: rid(), epoch: count, counts: fc.array(count, { maxLength: 8 }) }),
    fc.record({ t: fc.constant('teardown'), rid: rid(), origin: memberName, dissolve: fc.boolean(), epoch: count }),
    fc.record({
      t: fc.constant('reset-id'), rid: rid(), origin: fc.oneof(fc.constant(ctx.probe), fc.record({ name: ghostName(), ip: fc.constant('127.0.0.1'), port: fc.integer({ min: 1, max: 65535 }) })),
      id: fc.integer({ min: 0, max: 256 }), n: fc.integer({ min: 1, max: 256 }), peers: ringList, year, s: count, epoch: count, dht: count,
    }),
    fc.record({ t: fc.constant('rebuild-dht'), rid: rid(), year, origin: fc.record({ name: ghostName(), ip: fc.constant('127.0.0.1'), port: fc.integer({ min: 1, max: 65535 }) }) }),
    fc.record({ t: fc.constant('rebuild-done'), rid: rid(), leader: memberName, ok: fc.boolean(), counts: fc.array(count, { maxLength: 8 }), text: fc.string({ maxLength: 40 }) }),
    fc.record({ t: fc.constant('join'), rid: rid(), joiner: fc.constantFrom(...ctx.stayingMembers).map((name) => ({ name, ip: '127.0.0.1', port: ctx.probe.port })) }),
    // find-event naming node ids no ring here has (≥ 8): refused before any forwarding.
    fc.record({
      t: fc.constant('find-event'), rid: rid(), qid: rid(), eventId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), sender: fc.constant(ctx.probe),
      remaining: fc.array(fc.integer({ min: 8, max: 255 }), { minLength: 1, maxLength: 256 }), idSeq: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
    }),
    fc.record({
      t: fc.constant('find-event'), rid: rid(), qid: rid(), eventId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), sender: fc.constant(ctx.probe),
      remaining: fc.constant([]), idSeq: fc.array(fc.integer({ min: 8, max: 255 }), { minLength: 1, maxLength: 256 }),
    }),
    fc.record({ t: fc.constant('event-result'), rid: rid(), qid: rid(), eventId: fc.integer({ min: 0, max: 1e9 }), found: fc.constant(false), idSeq: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 }) }),
    fc.record({ t: fc.constant('ack'), rid: rid(), more: fc.array(rid(), { maxLength: 64 }) }),
  // Default mode: an outsider guesses the DHT's secret (without one the codec refuses it at the edge).
  ).map((m) => ((m as { t?: string }).t === 'event-result' || (m as { t?: string }).t === 'ack' ? m : { ...m, sec: GUESSED_SECRET }));
}

/** An outsider's guess at a token or a DHT's secret: well formed, never right. */
const GUESSED_SECRET = 'guessedSecretAAAAAAAAA';

/** Messages that belong to the manager's socket pair: responses and dissolved (forged: not from the manager). */
export function forgedManagerTraffic(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.record({ t: fc.constant('res'), rid: rid(), cmd: fc.constantFrom('setup-dht', 'query-dht', 'deregister', 'join-dht'), code: fc.constantFrom('SUCCESS', 'FAILURE'), text: fc.string({ maxLength: 40 }), peers: fc.array(tupleArb(ctx), { minLength: 1, maxLength: 6 }) }),
    fc.record({ t: fc.constant('dissolved'), rid: rid(), dht: fc.integer({ min: 0, max: 10 }), text: fc.string({ maxLength: 40 }) }),
    fc.record({ t: fc.constant('dht-notice'), rid: rid(), dht: fc.integer({ min: 0, max: 10 }), leader: tupleArb(ctx), sec: fc.constant(GUESSED_SECRET) }),
    fc.record({ t: fc.constant('join-notice'), rid: rid(), dht: fc.integer({ min: 0, max: 10 }), joiner: tupleArb(ctx) }),
  ).map((m) => ({ ...m, tok: GUESSED_SECRET }));
}

const COMMANDS = ['register', 'setup-dht', 'dht-complete', 'query-dht', 'leave-dht', 'join-dht', 'dht-rebuilt', 'deregister', 'teardown-dht', 'teardown-complete', 'dht-abort'];
const ARITY: Record<string, number> = { register: 4, 'setup-dht': 3, 'dht-complete': 1, 'query-dht': 1, 'leave-dht': 1, 'join-dht': 1, 'dht-rebuilt': 2, deregister: 1, 'teardown-dht': 1, 'teardown-complete': 1, 'dht-abort': 1 };

/**
 * Requests to the manager that it must refuse: every command naming a real peer from the wrong
 * address (NOT_OWNER), unregistered names, wrong arity, malformed names, unknown commands, and
 * registrations claiming an address other than the sender's.
 */
export function forgedCommand(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const real = fc.constantFrom(...ctx.peers.map((p) => p.name));
  const impostor = fc.tuple(fc.constantFrom(...COMMANDS.filter((c) => c !== 'register')), real, fc.array(fc.oneof(real, fc.constantFrom('5', '3', '1996', '1950', '0', '-1')), { minLength: 2, maxLength: 2 }))
    .map(([cmd, name, more]) => ({ cmd, args: [name, ...more].slice(0, ARITY[cmd]) }));
  const register = fc.tuple(ghostName(), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
    .filter(([, m, p]) => m !== ctx.probe.port && m !== p)
    .map(([name, m, p]) => ({ cmd: 'register', args: [name, '127.0.0.1', String(m), String(p)] }));
  const badArgs = fc.tuple(fc.constantFrom(...COMMANDS), fc.array(fc.string({ maxLength: 64 }), { maxLength: 8 })).map(([cmd, args]) => ({ cmd, args }));
  const unknown = fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 })).map(([cmd, args]) => ({ cmd, args }));
  return fc.tuple(fc.oneof(impostor, register, badArgs, unknown, fc.tuple(ghostName(), fc.constantFrom(...COMMANDS)).map(([name, cmd]) => ({ cmd, args: [name, '5', '1996', 'x'].slice(0, ARITY[cmd]) }))), rid())
    .map(([c, r]) => ({ t: 'cmd', rid: r, ...c }));
}

/** A valid-shaped message of any type, to mangle. */
function anyMessage(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(forgedPeerMessage(ctx), forgedManagerTraffic(ctx), forgedCommand(ctx));
}

/** Datagrams no decoder may accept: bytes, truncation, sizes, types, unknown types, extra fields. */
export function malformed(ctx: FuzzContext): fc.Arbitrary<Datagram> {
  const msg = anyMessage(ctx);
  return fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 1400 }).map((b) => ({ category: 'random bytes', bytes: Buffer.from(b) })),
    fc.string({ maxLength: 200, unit: 'binary' }).map((s) => ({ category: 'random text', bytes: Buffer.from(s) })),
    fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 30 }), fc.array(fc.jsonValue(), { maxLength: 5 }), fc.boolean())
      .map((v) => ({ category: 'JSON, not an object', bytes: json(v) })),
    fc.tuple(msg, fc.double({ min: 0, max: 1, noNaN: true })).map(([m, f]) => {
      const b = json(m);
      return { category: 'truncated message', bytes: b.subarray(0, Math.max(1, Math.floor(b.length * f * 0.99))) };
    }),
    fc.tuple(msg, fc.integer({ min: 1401, max: 8192 })).map(([m, size]) => {
      // Still one JSON object, padded past the 1,400-byte payload with a field no schema allows.
      const base = json({ ...m, pad: '' });
      return { category: 'oversized (1,401–8,192 bytes)', bytes: json({ ...m, pad: 'x'.repeat(Math.max(0, size - base.length)) }) };
    }),
    fc.tuple(msg, fc.integer({ min: 8193, max: 60_000 })).map(([m, size]) => {
      const b = json(m);
      return { category: 'oversized (> 8,192 bytes)', bytes: Buffer.concat([b.subarray(0, b.length - 1), Buffer.from(' '.repeat(size - b.length) + '}')]) };
    }),
    fc.tuple(msg, wrongValue(), fc.nat())
      .map(([m, v, k]) => {
        const keys = Object.keys(m).filter((x) => x !== 't');
        return { m, key: keys[k % keys.length]!, v };
      })
      // Only a value of another JSON kind than the field's own (a negative number counts as wrong: no field may be negative).
      .filter(({ m, key, v }) => jsonKind(v) !== jsonKind(m[key]))
      .map(({ m, key, v }) => ({ category: 'wrong field type', bytes: json({ ...m, [key]: v }) })),
    fc.tuple(msg, fc.nat()).map(([m, k]) => {
      const keys = Object.keys(m).filter((x) => x !== 't');
      const copy = { ...m };
      delete copy[keys[k % keys.length]!];
      return { category: 'missing field', bytes: json(copy) };
    }),
    fc.tuple(msg, fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== 't' && k !== 'rid'), fc.jsonValue()).map(([m, k, v]) => ({ category: 'extra field', bytes: json({ ...m, [`x-${k}`]: v }) })),
    fc.tuple(fc.oneof(fc.string({ maxLength: 30 }), wrongValue()), rid()).map(([t, r]) => ({ category: 'unknown type', bytes: json({ t, rid: r }) })),
    fc.tuple(msg, fc.integer({ min: -(2 ** 53), max: -1 })).map(([m, r]) => ({ category: 'negative rid', bytes: json({ ...m, rid: r }) })),
    // Huge arrays, beyond every schema's bound (256 tuples, 256 ids, 400 records, 8 args).
    fc.constantFrom('set-id', 'find-event', 'store', 'cmd', 'store-end').chain((t) => fc.integer({ min: 257, max: 600 }).map((len) => {
      const big = Array.from({ length: len }, (_, i) => i % 4);
      const m: Record<string, unknown> =
        t === 'set-id' ? { t, rid: 1, id: 1, n: 3, peers: Array.from({ length: len }, (_, i) => ({ name: `p${i}`, ip: '127.0.0.1', port: 1000 + i })), year: 1996, s: 97073, epoch: 1, dht: 1 }
        : t === 'find-event' ? { t, rid: 1, qid: 1, eventId: 5536849, sender: ctx.probe, remaining: big, idSeq: big }
        : t === 'store' ? { t, rid: 1, epoch: 1, recs: Array.from({ length: len }, (_, i) => `${i},X`) }
        : t === 'cmd' ? { t, rid: 1, cmd: 'register', args: big.map(String) }
        : { t, rid: 1, epoch: 1, counts: big };
      return { category: 'huge array', bytes: json(m) };
    })),
    // Fragments: broken pieces, and whole sets that reassemble into garbage or into a fragment.
    fc.record({ t: fc.constant('frag'), f: rid(), i: fc.integer({ min: 0, max: 80 }), of: fc.integer({ min: 0, max: 80 }), d: fc.base64String({ maxLength: 300 }) })
      .map((m) => ({ category: 'fragment piece', bytes: json(m) })),
  );
}

/** Every kind of bad datagram for one target, weighted toward what that socket is for. */
export function badDatagram(ctx: FuzzContext, target: TargetKind): fc.Arbitrary<Datagram> {
  const as = (category: string) => (m: Record<string, unknown>): Datagram => ({ category, bytes: json(m) });
  const replay = ctx.captured.length > 0
    ? fc.constantFrom(...ctx.captured).map((bytes) => ({ category: 'replayed genuine datagram', bytes }))
    : fc.constant({ category: 'replayed genuine datagram', bytes: Buffer.from('{}') });
  const wrapped = fc.tuple(forgedPeerMessage(ctx), rid()).map(([m, f]) => {
    // A forged message cut into fragments that reassemble properly: it must be judged like the whole message.
    const b = json(m).toString('base64');
    const half = Math.ceil(b.length / 8) * 4;
    return { category: 'forged message in fragments', bytes: [b.slice(0, half), b.slice(half)].map((d, i) => json({ t: 'frag', f, i, of: 2, d })) };
  });
  const common: fc.WeightedArbitrary<Datagram>[] = [
    { weight: 45, arbitrary: malformed(ctx) },
    { weight: 8, arbitrary: replay },
  ];
  const specific: fc.WeightedArbitrary<Datagram>[] =
    target === 'manager' ? [
      { weight: 10, arbitrary: forgedCommand(ctx).map(as('refused command')) },
      { weight: 20, arbitrary: forgedPeerMessage(ctx).map(as('peer message to the manager')) },
      { weight: 5, arbitrary: forgedManagerTraffic(ctx).map(as('response to the manager')) },
    ] : target === 'mport' ? [
      { weight: 20, arbitrary: forgedManagerTraffic(ctx).map(as('forged manager message')) },
      { weight: 20, arbitrary: forgedPeerMessage(ctx).map(as('peer message on the m-port')) },
    ] : [
      { weight: 35, arbitrary: forgedPeerMessage(ctx).map(as('forged peer message')) },
      { weight: 5, arbitrary: forgedManagerTraffic(ctx).map(as('manager message on the p-port')) },
      { weight: 5, arbitrary: forgedCommand(ctx).map(as('command on the p-port')) },
    ];
  // Fragment sets expand to several datagrams; flatten them after sampling.
  return fc.oneof(...common, ...specific, { weight: 4, arbitrary: wrapped as unknown as fc.Arbitrary<Datagram> });
}

/** `count` datagrams for a target, reproducible from the seed; fragment sets are spread into datagrams. */
export function sample(ctx: FuzzContext, target: TargetKind, count: number, seed: number): Datagram[] {
  const out: Datagram[] = [];
  for (const d of fc.sample(badDatagram(ctx, target), { seed, numRuns: count })) {
    const bytes = d.bytes as Buffer | Buffer[];
    if (Array.isArray(bytes)) for (const b of bytes) out.push({ category: d.category, bytes: b });
    else out.push(d);
  }
  return out;
}
