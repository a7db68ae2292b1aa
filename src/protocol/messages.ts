// Every datagram of the system, as a schema. This file is the one place where a message's
// shape is defined; docs/PROTOCOL.md describes the same shapes for people.
//
// Wire format: one JSON object per UDP datagram, `{"t": <type>, "rid": <request id>, ...}`.
// JSON keeps every datagram readable in a packet capture, which matters for a teaching tool;
// a record travels in a store batch as one CSV line of its 14 fields (data/line.ts), ~19 records
// in 1,400 bytes, and as 14 strings in a query's answer.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FRAME_PATTERN, MAX_ACKS_PER_DATAGRAM, MAX_FRAME, MAX_LINE, MAX_RID, MAX_RING } from './limits.js';

export { FRAME_PATTERN, MAX_ACKS_PER_DATAGRAM, MAX_FRAME, MAX_LINE, MAX_RID, MAX_RING };

const Name = Type.String({ minLength: 1, maxLength: 15, pattern: '^[A-Za-z][A-Za-z0-9]*$' });
const Ipv4 = Type.String({ minLength: 7, maxLength: 15, pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Rid = Type.Integer({ minimum: 0, maximum: MAX_RID });
const NodeId = Type.Integer({ minimum: 0, maximum: 255 });
const RingSize = Type.Integer({ minimum: 1, maximum: 256 });
const Count = Type.Integer({ minimum: 0, maximum: 1e9 });
const EventId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Year = Type.Integer({ minimum: 1000, maximum: 9999 });
/**
 * An unguessable value from a cryptographic source (16 random bytes, base64url: 22 characters):
 * a peer's token (issued at register), a DHT's secret, a query capability (PROTOCOL §3, §8).
 */
const Secret = Type.String({ minLength: 16, maxLength: 44, pattern: '^[A-Za-z0-9_-]+$' });
/** Sentences for people: no control characters, so nobody can print extra lines on a console. */
const Text = Type.String({ maxLength: 300, pattern: '^[^\\x00-\\x1f\\x7f]*$' });

/** How a peer is reached by other peers: its name, IPv4 and p-port. */
export const Tuple = Type.Object({ name: Name, ip: Ipv4, port: Port }, { additionalProperties: false });
export type Tuple = Static<typeof Tuple>;

/** One storm event: the 14 course columns, as strings. */
export const RecordSchema = Type.Array(Type.String({ maxLength: MAX_LINE }), { minItems: 14, maxItems: 14 });
/** Largest ring: bounds every list of tuples and node ids. */
const Tuples = Type.Array(Tuple, { minItems: 1, maxItems: MAX_RING });

function msg<T extends string, P extends Record<string, TSchema>>(t: T, props: P) {
  return Type.Object({ t: Type.Literal(t), rid: Rid, ...props }, { additionalProperties: false });
}

// ---- peer ↔ manager (peer's m-port ↔ manager port) ----

/** A console command sent to the manager: exactly the words the person typed after the command. */
export const Command = msg('cmd', {
  cmd: Type.String({ minLength: 1, maxLength: 20, pattern: '^[a-z-]+$' }),
  /** Console words: printable ASCII without spaces, as typed words are. */
  args: Type.Array(Type.String({ maxLength: 64, pattern: '^[!-~]*$' }), { maxItems: 8 }),
  /** dht-complete and dht-rebuilt: the records each node holds, in ring order from the leader (for `status` and the live view). */
  counts: Type.Optional(Type.Array(Count, { maxItems: MAX_RING })),
  /** The token the manager gave this peer at register: on every command after it. */
  tok: Type.Optional(Secret),
});
/** The manager's one response to a command, with the tuples a command returns (`peers`, `peer`). */
export const Response = msg('res', {
  cmd: Type.String({ maxLength: 20 }),
  code: Type.Union([Type.Literal('SUCCESS'), Type.Literal('FAILURE')]),
  reason: Type.Optional(Type.String({ maxLength: 30 })),
  text: Text,
  peers: Type.Optional(Tuples),
  peer: Type.Optional(Tuple),
  /** setup-dht: the number the manager gave this DHT; members carry it so a late `dissolved` of an older DHT is not applied. */
  dht: Type.Optional(Count),
  /** The receiver's token: issued by register's SUCCESS, then on every response to it (a peer ignores a response without it). */
  tok: Type.Optional(Secret),
  /** register SUCCESS from a manager that detects failures: send `alive` every `hb` ms (PROTOCOL §4.11). */
  hb: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
  /** setup-dht and join-dht SUCCESS: the DHT's secret, which every ring message carries. */
  sec: Type.Optional(Secret),
  /** query-dht SUCCESS: the capability the first find-event carries (bound to the querier's tuple). */
  cap: Type.Optional(Secret),
});
/**
 * Peer m-port → manager, unacknowledged (PROTOCOL §4.11): "I am alive", every `hb` ms after a
 * register that asked for it, and at once in answer to a `probe`. Carries the peer's token.
 */
export const Alive = msg('alive', {
  tok: Secret,
  /** Set when this peer relays an indirect probe's answer: the nonce of the `ping-req` it carried out. */
  nonce: Type.Optional(Secret),
});
/** Manager → a peer's m-port it has not heard from for a while (suspected): answer with `alive` now. */
export const Probe = msg('probe', { tok: Secret });
/**
 * Manager → a live peer's m-port, unacknowledged (SWIM's indirect probe, PROTOCOL §4.11): "ping the
 * m-port `ip`:`port` for me; if it answers, tell me with `alive` carrying `nonce`".
 */
export const PingReq = msg('ping-req', { tok: Secret, nonce: Secret, ip: Ipv4, port: Port });
/** Helper's m-port → the suspect's m-port, unacknowledged: answer with `pong` and the same nonce. */
export const Ping = msg('ping', { nonce: Secret });
/** The suspect's m-port → the helper's m-port: the answer to `ping`. */
export const Pong = msg('pong', { nonce: Secret });
/** Manager → member: the DHT you were in no longer exists (the manager gave up waiting, or it was aborted). */
export const Dissolved = msg('dissolved', { dht: Count, text: Text, tok: Secret });
/** Manager → a peer chosen for a new DHT: expect set-id from `leader` for DHT `dht`, carrying `sec`. */
export const DhtNotice = msg('dht-notice', { dht: Count, leader: Tuple, sec: Secret, tok: Secret });
/** Manager → the leader: `joiner` was allowed to join DHT `dht`; take its `join`, once. */
export const JoinNotice = msg('join-notice', { dht: Count, joiner: Tuple, tok: Secret });
/**
 * Manager → the member that repairs DHT `dht` (its leader, or the next member when the leader is
 * the dead one): `dead` was declared dead; renumber the ring without it, rebuild the tables from
 * the year's file, and report `dht-rebuilt` (PROTOCOL §4.12).
 */
export const Repair = msg('repair', { dht: Count, dead: Name, tok: Secret });

// ---- peer ↔ peer (p-ports) ----

/** Leader → node i: your identifier, the ring, and what every member must know to answer queries. */
export const SetId = msg('set-id', {
  sec: Secret, id: NodeId, n: RingSize, peers: Tuples, year: Year, s: Count, epoch: Count, dht: Count,
  /** Replication (`dht-peer --replicas`): each record is also kept at the next r − 1 nodes. Absent: 1, no copies. */
  r: Type.Optional(RingSize),
});
const StoreFields = {
  epoch: Count, to: NodeId, sec: Secret,
  /** Replicas: these records are node `of`'s, and node `to` keeps them as copies (absent: `to`'s own). */
  of: Type.Optional(NodeId),
};
/**
 * A batch of records for node `to`, travelling around the ring toward it: the nodes between pass
 * it on as it is. On the wire its records are the datagram's body, after a JSON header line
 * (protocol/codec.ts); here `recs` is that frame. Compressed (`z` present, `dht-peer --compress`):
 * `recs` is the frame deflated by the node that cut the batch, as a latin1 string (one character
 * per byte); `z` is the frame's size once inflated, `n` its records. The frame pattern is checked
 * only where the batch is kept, after inflating (protocol/zframe.ts): nodes between never inflate.
 */
export const Store = Type.Union([
  msg('store', { ...StoreFields, recs: Type.String({ maxLength: MAX_FRAME, pattern: FRAME_PATTERN }) }),
  msg('store', {
    ...StoreFields, recs: Type.String({ minLength: 1, maxLength: MAX_FRAME, pattern: '^[\\x00-\\xff]*$' }),
    z: Type.Integer({ minimum: 1, maximum: MAX_FRAME }), n: Type.Integer({ minimum: 1, maximum: MAX_FRAME }),
  }),
]);
/**
 * Follows the last store batch around the ring; each node appends the number of records it holds
 * and, when the ring keeps replicas (r > 1), the number of copies it holds to `replicas`.
 */
export const StoreEnd = msg('store-end', {
  epoch: Count, sec: Secret, counts: Type.Array(Count, { maxItems: 256 }), replicas: Type.Optional(Type.Array(Count, { maxItems: 256 })),
});
/** Node → leader: the store stream could not reach my right neighbour; the build cannot finish. */
export const StoreFailed = msg('store-failed', { epoch: Count, sec: Secret, text: Text });
/** Delete your local table and pass it on; `dissolve` also forgets the ring (teardown-dht). */
export const Teardown = msg('teardown', { sec: Secret, origin: Name, dissolve: Type.Boolean(), epoch: Count });
/** Renumbering: take identifier `id` in the ring `peers` of size n, pass on with id+1. */
export const ResetId = msg('reset-id', {
  sec: Secret, origin: Tuple, id: Type.Integer({ minimum: 0, maximum: 256 }), n: RingSize, peers: Tuples, year: Year, s: Count, epoch: Count, dht: Count,
  /** The ring's replication, kept across the renumbering (as in set-id; absent: 1). */
  r: Type.Optional(RingSize),
});
/** Leaver → new leader: rebuild the tables of the renumbered ring from the year's file. */
export const RebuildDht = msg('rebuild-dht', { sec: Secret, year: Year, origin: Tuple });
/** Leader → the peer that started a leave or join: the tables are rebuilt (or could not be). */
export const RebuildDone = msg('rebuild-done', {
  sec: Secret, leader: Name, ok: Type.Boolean(), counts: Type.Array(Count, { maxItems: 256 }), text: Text,
});
/** Joiner → leader: admit me (after the manager said SUCCESS to join-dht). */
export const Join = msg('join', { sec: Secret, joiner: Tuple });
/** A query walking the ring hot-potato style. `remaining` is null until the first node starts the walk. */
export const FindEvent = msg('find-event', {
  qid: Rid,
  eventId: EventId,
  sender: Tuple,
  remaining: Type.Union([Type.Null(), Type.Array(NodeId, { maxItems: 256 })]),
  idSeq: Type.Array(NodeId, { maxItems: 256 }),
  /** First hop (remaining null): the manager's capability for `sender`; later hops: the DHT's secret. */
  cap: Type.Optional(Secret),
  sec: Type.Optional(Secret),
  /**
   * The ring the walk belongs to: set by the first member from its own ring (absent on the first
   * hop). A node of another ring, or one whose table is not complete, never answers "not found".
   */
  epoch: Type.Optional(Count),
  dht: Type.Optional(Count),
  /** Acknowledged and retransmitted hop by hop (the querier's resends after its first try). */
  ack: Type.Optional(Type.Literal(true)),
  /**
   * Node `rep`, the record's node, did not acknowledge this walk: the receiver answers from its
   * replica of node `rep`'s records (PROTOCOL §4.9, replicas). Only on acknowledged walks.
   */
  rep: Type.Optional(NodeId),
});
/** The answer to a query, sent straight to the querying peer. */
export const EventResult = msg('event-result', {
  qid: Rid, eventId: EventId, found: Type.Boolean(), record: Type.Optional(RecordSchema),
  /** The answering node's name, so the querying peer's trace can name it. */
  by: Type.Optional(Name),
  idSeq: Type.Array(NodeId, { maxItems: 256 }),
  /**
   * The node cannot answer for the walk's ring now (its ring changed, its table is being torn
   * down or rebuilt, it is in no ring): why, for the querier, which waits and asks again. Never
   * with found = true.
   */
  busy: Type.Optional(Text),
  /** Acknowledged and retransmitted (the answer to a find-event that was). */
  ack: Type.Optional(Type.Literal(true)),
  /** The answer came from the answering node's replica of node `of`'s records (`of` did not answer). */
  of: Type.Optional(NodeId),
});
/** One piece of a message too large for one datagram (see wire.ts); never seen by the cores. */
export const Frag = Type.Object({
  t: Type.Literal('frag'),
  f: Rid,
  i: Type.Integer({ minimum: 0, maximum: 63 }),
  of: Type.Integer({ minimum: 2, maximum: 64 }),
  d: Type.String({ maxLength: 12_000, pattern: '^[A-Za-z0-9+/=]*$' }),
}, { additionalProperties: false });
/**
 * Transport acknowledgement of any message above (except res/ack): "I have it, stop resending".
 * Acks are delayed a moment and coalesced: `more` lists further request ids acknowledged at once.
 */
export const Ack = Type.Object({ t: Type.Literal('ack'), rid: Rid, more: Type.Optional(Type.Array(Rid, { maxItems: 64 })) }, { additionalProperties: false });

export const SCHEMAS = {
  cmd: Command, res: Response, dissolved: Dissolved, 'dht-notice': DhtNotice, 'join-notice': JoinNotice, repair: Repair, 'set-id': SetId, store: Store,
  'store-end': StoreEnd, 'store-failed': StoreFailed, teardown: Teardown, 'reset-id': ResetId, 'rebuild-dht': RebuildDht,
  'rebuild-done': RebuildDone, join: Join, 'find-event': FindEvent, 'event-result': EventResult,
  ack: Ack, frag: Frag, alive: Alive, probe: Probe, 'ping-req': PingReq, ping: Ping, pong: Pong,
} as const;

export type MessageType = keyof typeof SCHEMAS;
/** Anything a datagram may carry, fragments included (the codec's view). */
export type Datagram = { [K in MessageType]: Static<(typeof SCHEMAS)[K]> }[MessageType];
/** A whole message (the cores' view: fragments are reassembled below them, in wire.ts). */
export type Message = Exclude<Datagram, { t: 'frag' }>;
export type MessageOf<K extends MessageType> = Static<(typeof SCHEMAS)[K]>;
/** Peer-to-peer messages that are delivered reliably (acknowledged hop by hop). */
export type PeerMessage = Exclude<Message, { t: 'cmd' | 'res' | 'ack' | 'dissolved' | 'dht-notice' | 'join-notice' | 'repair' | 'alive' | 'probe' | 'ping-req' | 'ping' | 'pong' }>;
/** What the manager sends to a peer's m-port. */
export type ManagerMessage = Extract<Message, { t: 'res' | 'dissolved' | 'dht-notice' | 'join-notice' | 'repair' }>;
/** Manager → peer notices, acknowledged and retransmitted by the manager. */
export type Notice = Extract<Message, { t: 'dissolved' | 'dht-notice' | 'join-notice' | 'repair' }>;

/** A message before the reliable layer numbers it. */
export type Unnumbered<M> = M extends unknown ? Omit<M, 'rid'> : never;
