// The manager's state as one plain JSON value, so that it survives the process (docs/PROTOCOL.md
// §4.10). The core emits a `persist` effect with a snapshot after every request that changed its
// state, before the answer goes out; a restarted manager is handed the last one as the input
// `restored` and goes on from there. Nothing here does I/O: the program's journal
// (net/journal.ts) writes snapshots to a file, the simulation keeps the last one in memory.
//
// A snapshot holds the registered peers (every data field of their entries, whatever fields
// PeerEntry has: saved generically, not one by one), the DHT without its wait deadline (a restart
// gives a fresh one), the DHT counter (so numbers are never reused and a late `dissolved` of an
// old DHT cannot end a new one), the last state-changing answer to each address (so a request
// applied just before a crash, whose answer was lost, gets that answer again when retransmitted)
// and the `dissolved` notices not yet acknowledged (sent again after a restart).
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MAX_RING, Tuple, type Message, type MessageOf } from '../protocol/messages.js';
import { decode } from '../protocol/codec.js';
import { addrKey, type Addr, type Pending } from '../reliable/index.js';
import type { Dht, ManagerState, PeerEntry } from './state.js';

type Res = MessageOf<'res'>;

export const SNAPSHOT_VERSION = 1;
/** Answers kept for addresses that are no longer registered (a retransmitted deregister's SUCCESS). */
export const DEPARTED_ANSWERS = 64;

const Name = Tuple.properties.name;
const Ipv4 = Tuple.properties.ip;
const Port = Tuple.properties.port;
const AddrSchema = Type.Object({ ip: Ipv4, port: Port }, { additionalProperties: false });
/** A registered peer: the four fields every entry has, and any others it has grown (a token, a request-id window…). */
const PeerSchema = Type.Object({ name: Name, ip: Ipv4, mport: Port, pport: Port }, { additionalProperties: true });
const DhtSchema = Type.Object({
  phase: Type.Union([Type.Literal('building'), Type.Literal('ready'), Type.Literal('leaving'), Type.Literal('joining'), Type.Literal('tearing-down')]),
  leader: Name,
  members: Type.Array(Name, { minItems: 1, maxItems: MAX_RING }),
  initiator: Type.Optional(Name),
  year: Type.Integer({ minimum: 1000, maximum: 9999 }),
  id: Type.Integer({ minimum: 1 }),
  counts: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: MAX_RING })),
}, { additionalProperties: true });
const SnapshotSchema = Type.Object({
  v: Type.Literal(SNAPSHOT_VERSION),
  peers: Type.Array(PeerSchema),
  dht: Type.Union([Type.Null(), DhtSchema]),
  dhtCount: Type.Integer({ minimum: 0 }),
  /** Messages are checked by the codec, as if they had come in a datagram. */
  answers: Type.Array(Type.Object({ to: AddrSchema, res: Type.Unknown() }, { additionalProperties: false })),
  notices: Type.Array(Type.Object({ to: AddrSchema, tag: Type.String({ maxLength: 64 }), msg: Type.Unknown() }, { additionalProperties: false })),
}, { additionalProperties: false });
const CHECK = TypeCompiler.Compile(SnapshotSchema);

export type Snapshot = Static<typeof SnapshotSchema>;
type Notice = MessageOf<'dissolved'>;

/** An entry's data fields (its `state` is a getter derived from the DHT: left out). */
function plainEntry(entry: PeerEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(entry))) {
    if (d.enumerable && 'value' in d && typeof d.value !== 'function') out[key] = d.value;
  }
  return out;
}

/**
 * The last answer that changed the state, per address: what a request retransmitted after a
 * restart must get again. One per address (a peer has one request outstanding at a time): every
 * registered address, plus the DEPARTED_ANSWERS most recent of addresses no longer registered.
 */
export class LastAnswers {
  private readonly byAddr = new Map<string, { to: Addr; res: Res }>();

  keep(to: Addr, res: Res, registered: (to: Addr) => boolean): void {
    const key = addrKey(to);
    this.byAddr.delete(key); // re-inserted last: the most recent
    this.byAddr.set(key, { to, res });
    let departed = 0;
    for (const e of this.byAddr.values()) if (!registered(e.to)) departed += 1;
    if (departed <= DEPARTED_ANSWERS) return;
    for (const [k, e] of this.byAddr) {
      if (departed <= DEPARTED_ANSWERS) break;
      if (registered(e.to)) continue;
      this.byAddr.delete(k);
      departed -= 1;
    }
  }

  list(): { to: Addr; res: Res }[] {
    return [...this.byAddr.values()];
  }

  get size(): number {
    return this.byAddr.size;
  }
}

/** The state as a plain JSON value (a deep copy: later changes do not touch it). */
export function takeSnapshot(state: ManagerState, dhtCount: number, answers: LastAnswers, notices: readonly Pending<Notice, string>[]): Snapshot {
  let dht: Snapshot['dht'] = null;
  if (state.dht) {
    const { deadline: _deadline, ...rest } = state.dht;
    dht = structuredClone(rest);
  }
  return {
    v: SNAPSHOT_VERSION,
    peers: [...state.peers.values()].map((p) => structuredClone(plainEntry(p)) as Snapshot['peers'][number]),
    dht,
    dhtCount,
    answers: answers.list().map((a) => ({ to: { ...a.to }, res: structuredClone(a.res) })),
    notices: notices.map((p) => ({ to: { ...p.to }, tag: p.tag, msg: structuredClone(p.msg) })),
  };
}

export interface Restored {
  dhtCount: number;
  answers: { to: Addr; res: Res }[];
  /** Notices to send again, without their old request ids (the new outbox numbers them). */
  notices: { to: Addr; tag: string; body: Omit<Notice, 'rid'> }[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

/** A message stored in a snapshot, checked as the codec checks a datagram. */
function message(value: unknown): Message | null {
  const decoded = decode(Buffer.from(JSON.stringify(value), 'utf8'));
  return decoded.ok && decoded.msg.t !== 'frag' ? (decoded.msg as Message) : null;
}

/**
 * Put a snapshot into an empty state: the schema and the table's own consistency (unique names
 * and ports, members registered) are checked here; the DHT's invariants by the caller. `deadline`
 * is the fresh wait deadline for a DHT caught in a waiting phase.
 */
export function restoreSnapshot(state: ManagerState, value: unknown, deadline: number): Checked<Restored> {
  if (state.peers.size > 0 || state.dht !== null) return { ok: false, why: 'the manager already has a state' };
  if (!CHECK.Check(value)) {
    const e = CHECK.Errors(value).First();
    return { ok: false, why: `not a state snapshot (version ${SNAPSHOT_VERSION}): ${e ? `${e.path || '/'} ${e.message}` : 'bad shape'}` };
  }
  const snap = value;
  const seen = new Set<string>();
  for (const p of snap.peers) {
    if (seen.has(p.name)) return { ok: false, why: `peer ${p.name} is listed twice` };
    seen.add(p.name);
    if (p.mport === p.pport) return { ok: false, why: `${p.name}'s m-port and p-port are the same` };
    for (const port of [p.mport, p.pport]) {
      const user = state.portUser(port);
      if (user !== undefined) return { ok: false, why: `port ${port} is used by both ${user} and ${p.name}` };
    }
    state.restorePeer(structuredClone(p));
  }
  if (snap.dht) {
    const d = structuredClone(snap.dht) as Dht;
    delete d.deadline;
    if (d.id > snap.dhtCount) return { ok: false, why: `DHT number ${d.id} is above the counter ${snap.dhtCount}` };
    for (const m of [...d.members, ...(d.initiator ? [d.initiator] : [])]) {
      if (!seen.has(m)) return { ok: false, why: `DHT member ${m} is not registered` };
    }
    if (d.phase === 'building' || d.phase === 'leaving' || d.phase === 'joining' || d.phase === 'tearing-down') d.deadline = deadline;
    state.dht = d;
  }
  const answers: Restored['answers'] = [];
  for (const a of snap.answers) {
    const res = message(a.res);
    if (!res || res.t !== 'res') return { ok: false, why: `a saved answer to ${addrKey(a.to)} is not a valid res` };
    answers.push({ to: a.to, res });
  }
  const notices: Restored['notices'] = [];
  for (const n of snap.notices) {
    const msg = message(n.msg);
    if (!msg || msg.t !== 'dissolved') return { ok: false, why: `a saved notice to ${addrKey(n.to)} is not a valid dissolved` };
    const { rid: _rid, ...body } = msg;
    notices.push({ to: n.to, tag: n.tag, body });
  }
  return { ok: true, value: { dhtCount: snap.dhtCount, answers, notices } };
}

/** `3 peers and a DHT of 3 (ready)`, `no peers and no DHT`: for the restore line. */
export function describeState(state: ManagerState): string {
  const n = state.peers.size;
  const peers = n === 0 ? 'no peers' : `${n} peer${n === 1 ? '' : 's'}`;
  const d = state.dht;
  return `${peers} and ${d ? `a DHT of ${d.members.length} (${d.phase})` : 'no DHT'}`;
}
