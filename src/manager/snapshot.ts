// The manager's state as plain JSON, so that it survives the process (docs/PROTOCOL.md §4.10).
// Nothing here does I/O: the program's journal (net/journal.ts) writes to a file, the simulation
// keeps everything in memory.
//
// After every request that changed its state, the core emits a `persist` effect with a *change*:
// the peers whose entries changed (every data field, whatever fields PeerEntry has: saved
// generically, not one by one; null for a peer that left), the DHT without its wait deadline (a
// restart gives a fresh one), the DHT counter (numbers are never reused, so a late `dissolved` of
// an old DHT cannot end a new one), the answer to the request (so a request applied just before a
// crash, whose answer was lost, gets that answer again when retransmitted) and the `dissolved`
// notices not yet acknowledged. A change costs what changed, not the size of the table: registering
// the 4,000th peer writes one entry, not 4,000.
//
// A `Mirror` applies changes to a copy of the state and gives a whole *snapshot* when asked: the
// journal writes one when it compacts, and a restarted manager is handed one (the input
// `restored`), which `restoreSnapshot` checks and puts into an empty core.
import type { Message, MessageOf, Unnumbered } from '../protocol/messages.js';
import { CHANGE_CHECK, SNAPSHOT_CHECK } from '../protocol/checks.js';
import { whyInvalid } from '../protocol/explain-lazy.js';
import { decode } from '../protocol/codec.js';
import { addrKey, type Addr } from '../reliable/index.js';
import type { Dht, ManagerState, PeerEntry } from './state.js';

type Res = MessageOf<'res'>;
/** What the manager's outbox holds: messages it retransmits until acknowledged. */
type Notice = MessageOf<'dissolved'> | MessageOf<'dht-notice'> | MessageOf<'join-notice'> | MessageOf<'repair'>;
const NOTICE_TYPES: ReadonlySet<string> = new Set(['dissolved', 'dht-notice', 'join-notice', 'repair']);

export { SNAPSHOT_VERSION } from './snapshot-version.js';
import { SNAPSHOT_VERSION } from './snapshot-version.js';
/** Answers kept for addresses no longer registered (a retransmitted deregister's SUCCESS). */
export const DEPARTED_ANSWERS = 64;

/** The schemas are in snapshot-schema.ts; the checks compiled from them ahead of time (protocol/checks.ts). */
export type { Snapshot, Change } from './snapshot-schema.js';
import type { Snapshot } from './snapshot-schema.js';
const SNAPSHOT = { name: 'snapshot', Check: SNAPSHOT_CHECK } as const;
const CHANGE = { name: 'change', Check: CHANGE_CHECK } as const;

type Entry = Snapshot['peers'][number];
type Answer = Snapshot['answers'][number];

export type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

function schemaError(check: typeof SNAPSHOT | typeof CHANGE, value: unknown, what: string): string {
  return `not a ${what} (version ${SNAPSHOT_VERSION}): ${whyInvalid(check.name, value) ?? 'bad shape'}`;
}

/** An entry's data fields, copied (its `state` is a getter derived from the DHT: left out). */
export function entryFields(entry: PeerEntry): Entry {
  const out: Record<string, unknown> = {};
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(entry))) {
    if (d.enumerable && 'value' in d && typeof d.value !== 'function') out[key] = d.value;
  }
  return structuredClone(out) as Entry;
}

/** The DHT as saved: a copy without its deadline. */
export function dhtFields(dht: Dht | null): Snapshot['dht'] {
  if (!dht) return null;
  const { deadline: _deadline, ...rest } = dht;
  return structuredClone(rest);
}

/**
 * The state the changes add up to: what a file of changes (or a simulated disk) holds. Applying a
 * change costs its size; `snapshot()` costs the size of the state.
 */
export class Mirror {
  private readonly peers = new Map<string, Entry>();
  /** `ip:m-port` of every registered peer: whose answers are kept without a bound. */
  private readonly addrs = new Set<string>();
  private dht: Snapshot['dht'] = null;
  private dhtCount = 0;
  private rid = 0;
  private readonly answers = new Map<string, Answer>();
  /** Answers to addresses no longer registered, least recent first, at most DEPARTED_ANSWERS. */
  private readonly departed = new Map<string, Answer>();
  private notices: Snapshot['notices'] = [];
  /** Changes applied since the mirror was made. */
  applied = 0;

  /** A mirror holding a snapshot (checked for its shape only: the core checks the rest). */
  static from(value: unknown): Checked<Mirror> {
    if (!SNAPSHOT.Check(value)) return { ok: false, why: schemaError(SNAPSHOT, value, 'state snapshot') };
    const m = new Mirror();
    for (const p of value.peers) m.setPeer(p);
    m.dht = value.dht;
    m.dhtCount = value.dhtCount;
    m.rid = value.rid ?? 0;
    for (const a of value.answers) m.keep(a);
    m.notices = value.notices;
    return { ok: true, value: m };
  }

  /** Apply one change (checked for its shape first: a bad one is refused and changes nothing). */
  apply(value: unknown): Checked<null> {
    if (!CHANGE.Check(value)) return { ok: false, why: schemaError(CHANGE, value, 'state change') };
    for (const [name, entry] of Object.entries(value.peers)) {
      if (entry === null) this.deletePeer(name);
      else if (entry.name !== name) return { ok: false, why: `the change lists ${entry.name} under ${name}` };
      else this.setPeer(entry);
    }
    this.dht = value.dht;
    this.dhtCount = value.dhtCount;
    this.rid = Math.max(this.rid, value.rid ?? 0);
    for (const a of value.answers) this.keep(a);
    this.notices = value.notices;
    this.applied += 1;
    return { ok: true, value: null };
  }

  snapshot(): Snapshot {
    return structuredClone({
      v: SNAPSHOT_VERSION,
      peers: [...this.peers.values()],
      dht: this.dht,
      dhtCount: this.dhtCount,
      rid: this.rid,
      answers: [...this.departed.values(), ...this.answers.values()],
      notices: this.notices,
    });
  }

  get size(): number {
    return this.peers.size;
  }

  private setPeer(entry: Entry): void {
    const old = this.peers.get(entry.name);
    if (old) this.addrs.delete(`${old.ip}:${old.mport}`);
    this.peers.set(entry.name, entry);
    this.addrs.add(`${entry.ip}:${entry.mport}`);
  }

  private deletePeer(name: string): void {
    const old = this.peers.get(name);
    if (!old) return;
    this.peers.delete(name);
    const key = `${old.ip}:${old.mport}`;
    this.addrs.delete(key);
    const answer = this.answers.get(key);
    if (answer) this.keep(answer);
  }

  /** One answer per address: registered addresses keep theirs, departed ones the most recent few. */
  private keep(a: Answer): void {
    const key = addrKey(a.to);
    this.answers.delete(key);
    this.departed.delete(key);
    if (this.addrs.has(key)) {
      this.answers.set(key, a);
      return;
    }
    this.departed.set(key, a);
    if (this.departed.size > DEPARTED_ANSWERS) this.departed.delete(this.departed.keys().next().value as string);
  }
}

export interface Restored {
  dhtCount: number;
  /** The request id the previous life would have given its next notice (0: not saved). */
  rid: number;
  answers: { to: Addr; res: Res }[];
  /** Notices to send again, without their old request ids (the new outbox numbers them). */
  notices: { to: Addr; tag: string; body: Unnumbered<Notice> }[];
}

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
  if (!SNAPSHOT.Check(value)) return { ok: false, why: schemaError(SNAPSHOT, value, 'state snapshot') };
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
    if (d.phase !== 'ready') d.deadline = deadline;
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
    if (!msg || !NOTICE_TYPES.has(msg.t)) return { ok: false, why: `a saved notice to ${addrKey(n.to)} is not a valid dissolved, dht-notice or join-notice` };
    const { rid: _rid, ...body } = msg as Notice;
    notices.push({ to: n.to, tag: n.tag, body });
  }
  return { ok: true, value: { dhtCount: snap.dhtCount, rid: snap.rid ?? 0, answers, notices } };
}

/** `3 peers and a DHT of 3 (ready)`, `no peers and no DHT`: for the restore line. */
export function describeState(state: ManagerState): string {
  const n = state.peers.size;
  const peers = n === 0 ? 'no peers' : `${n} peer${n === 1 ? '' : 's'}`;
  const d = state.dht;
  return `${peers} and ${d ? `a DHT of ${d.members.length} (${d.phase})` : 'no DHT'}`;
}
