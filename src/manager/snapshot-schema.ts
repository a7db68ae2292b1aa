// The schemas of the manager's saved state (snapshot.ts says what is saved and why). Only the
// generator of the ahead-of-time checks (protocol/gen-checks.ts), the explanations of a refusal
// (protocol/explain.ts) and the types use them: the manager itself never loads TypeBox.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_RING, Tuple } from '../protocol/messages.js';
import { SNAPSHOT_VERSION } from './snapshot-version.js';

const Name = Tuple.properties.name;
const Ipv4 = Tuple.properties.ip;
const Port = Tuple.properties.port;
const AddrSchema = Type.Object({ ip: Ipv4, port: Port }, { additionalProperties: false });
/** A registered peer: the four fields every entry has, and any others it has grown (a token, a request-id window…). */
const PeerSchema = Type.Object({ name: Name, ip: Ipv4, mport: Port, pport: Port }, { additionalProperties: true });
const DhtSchema = Type.Object({
  phase: Type.Union([Type.Literal('building'), Type.Literal('ready'), Type.Literal('leaving'), Type.Literal('joining'), Type.Literal('repairing'), Type.Literal('tearing-down')]),
  leader: Name,
  members: Type.Array(Name, { minItems: 1, maxItems: MAX_RING }),
  initiator: Type.Optional(Name),
  year: Type.Integer({ minimum: 1000, maximum: 9999 }),
  id: Type.Integer({ minimum: 1 }),
  counts: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: MAX_RING })),
}, { additionalProperties: true });
/** Messages are checked by the codec when restored, as if they had come in a datagram. */
const AnswerSchema = Type.Object({ to: AddrSchema, res: Type.Unknown() }, { additionalProperties: false });
const NoticeSchema = Type.Object({ to: AddrSchema, tag: Type.String({ maxLength: 64 }), msg: Type.Unknown() }, { additionalProperties: false });

export const SnapshotSchema = Type.Object({
  v: Type.Literal(SNAPSHOT_VERSION),
  peers: Type.Array(PeerSchema),
  dht: Type.Union([Type.Null(), DhtSchema]),
  dhtCount: Type.Integer({ minimum: 0 }),
  /** The request id of the manager's next notice: a restarted manager numbers above it (optional: older files lack it). */
  rid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The last state-changing answer per address: every registered one, and the most recent departed ones. */
  answers: Type.Array(AnswerSchema),
  notices: Type.Array(NoticeSchema),
}, { additionalProperties: false });
export const ChangeSchema = Type.Object({
  v: Type.Literal(SNAPSHOT_VERSION),
  /** Name → the entry as it is now, or null: the peer left. */
  peers: Type.Record(Type.String(), Type.Union([PeerSchema, Type.Null()])),
  dht: Type.Union([Type.Null(), DhtSchema]),
  dhtCount: Type.Integer({ minimum: 0 }),
  rid: Type.Optional(Type.Integer({ minimum: 0 })),
  answers: Type.Array(AnswerSchema),
  notices: Type.Array(NoticeSchema),
}, { additionalProperties: false });

export type Snapshot = Static<typeof SnapshotSchema>;
export type Change = Static<typeof ChangeSchema>;
