// What every operation of the peer uses: the effects of the input being handled, the reliable
// outbox (each entry tagged with the operation or stream that owns it, so dropping an owner
// drops its retransmissions), the delayed acks, the names of known addresses and the console.
import type { Message, PeerMessage, Tuple, Unnumbered } from '../protocol/messages.js';
import type { ManagerRequest } from '../protocol/requests.js';
import { AckBatcher, Outbox, Recent, ReplayGuard, addrKey, type Addr, type RetryPolicy, type WithoutRid } from '../reliable/index.js';
import { numberOf } from '../protocol/secrets.js';
import { Complaints } from '../console/ratelimit.js';
import type { LocalPath } from '../protocol/wire.js';
import type { Effect, Via } from '../runtime/effects.js';
import { assert } from '../runtime/assert.js';

export interface PeerConfig {
  retry: RetryPolicy;
  /** Largest datagram payload in bytes. */
  maxPayload: number;
  /** Larger store batches to and from processes of this machine (protocol/wire.ts); none in the simulation. */
  local?: LocalPath;
  /** Store batches in flight per hop. */
  window: number;
  /** How long a query may take before the querying peer gives up. */
  queryTimeoutMs: number;
  /** `--replicas R`: a setup this peer leads keeps each record at R nodes (absent: 1, no copies). */
  replicas?: number;
  /** `--compress`: the store batches this peer cuts (as a leader) are deflated (protocol/zframe.ts). Absent: never. */
  compress?: boolean;
  /** `--queries-in-flight N`: query-dht lines waiting in the console that run together (absent: 1, one at a time). */
  queriesInFlight?: number;
}

/** The only thing the world lends the core: randomness (data comes as `load` effects). */
export interface PeerEnv {
  random(): number;
  /** An unguessable value: `crypto.randomBytes` in the program, seeded in the simulation (protocol/secrets.ts). */
  secret(): string;
}

/** What the manager told this peer (PROTOCOL §8): its token, a DHT it was chosen for, a joiner it vouched for. */
export interface Credentials {
  /** Issued by register's SUCCESS; on every command, and on every datagram the manager sends here. */
  token: string | null;
  /** dht-notice: this Free peer was chosen for DHT `dht` led by `leader`; its set-id carries `sec`. */
  announced: { dht: number; leader: Tuple; sec: string } | null;
  /** join-notice (at a leader): `joiner` may join DHT `dht`, once. */
  vouched: { dht: number; joiner: Tuple } | null;
}

/** The peer's effects: the shared ones (runtime/effects.ts), sends always naming their socket. */
export type PeerEffect = Exclude<Effect, { kind: 'send' }> | (Extract<Effect, { kind: 'send' }> & { via: Via });

/** Who a reliable peer message belongs to: an operation, a store stream, or nobody (passed on). */
export type Owner = object | null;
export type Tag = { kind: 'cmd'; req: ManagerRequest } | { kind: 'p2p'; t: PeerMessage['t']; to: string; owner: Owner };
export type Numbered = Message & { rid: number };

/** Bounds (TigerBeetle habit): names of addresses (duplicates and replays: reliable/replay.ts). */
const KNOWN_CAPACITY = 1024;
/** Effects of one input: a store burst is a few hundred; more means a runaway loop. */
const MAX_EFFECTS = 1_000_000;
/**
 * How long an acknowledgement may wait for others to share its datagram: zero means "until the
 * datagrams already received are handled" (the shell flushes after its current I/O burst).
 */
const ACK_DELAY_MS = 0;
/** Query senders whose request ids are remembered (4 KiB each, least recently heard forgotten first). */
const QUERY_SENDERS = 256;

export class PeerContext {
  now = 0;
  out: PeerEffect[] = [];
  readonly outbox: Outbox<Numbered, Tag>;
  readonly known = new Recent<string>(KNOWN_CAPACITY);
  readonly creds: Credentials = { token: null, announced: null, vouched: null };
  /** Request ids taken from each ring sender, under one DHT secret (reliable/replay.ts). */
  private readonly ringIds = new ReplayGuard();
  private ringIdsFor: string | null = null;
  /** Request ids of the manager's notices, under one token. */
  readonly managerIds = new ReplayGuard(1);
  /**
   * Request ids of query traffic, per sender (not bound to a secret: queriers hold none): the
   * acknowledged retries and the loose first tries apart, so that a loose datagram (whose rid a
   * stranger may choose) never makes an acknowledged one look like a duplicate.
   */
  readonly queryIds = new ReplayGuard(QUERY_SENDERS);
  readonly looseQueryIds = new ReplayGuard(QUERY_SENDERS);
  private readonly acks = new AckBatcher<Via>(ACK_DELAY_MS);
  /**
   * Work that should not delay the sends of the input being handled (a leader compressing its next
   * store batch: compressor.ts): done at the next timeout, due at once, so the shell first sends
   * what this input produced, and the work overlaps the neighbour's handling of it.
   */
  private deferred: (() => void)[] = [];
  private readonly complaints = new Complaints();

  constructor(readonly manager: Addr, readonly config: PeerConfig, readonly env: PeerEnv) {
    this.outbox = new Outbox(config.retry, numberOf(env.secret()));
    this.known.set(addrKey(manager), 'manager');
  }

  /** Entries held by every bounded structure here: what must stay flat over a long life. */
  footprint(): Record<string, number> {
    return {
      outbox: this.outbox.size, known: this.known.size, ringSenders: this.ringIds.senders,
      managerSenders: this.managerIds.senders, querySenders: this.queryIds.senders + this.looseQueryIds.senders,
      complaintKinds: this.complaints.kinds,
    };
  }

  begin(now: number): void {
    this.out = [];
    this.now = now;
  }

  emit(e: PeerEffect): void {
    assert(this.out.length < MAX_EFFECTS, `more than ${MAX_EFFECTS} effects for one input`);
    this.out.push(e);
  }

  print(text: string): void {
    this.emit({ kind: 'print', text });
  }

  send(via: Via, to: Addr, msg: Message, attempt: number): void {
    this.emit({ kind: 'send', via, to, msg, attempt });
  }

  /**
   * A peer message kept for retransmission until acknowledged, owned by `owner`; a query's hop
   * (`find-event`, `event-result`) is resent without backoff (Outbox `steady`). `maxTries`: give
   * up sooner than the retry policy says (a query hop that can go elsewhere, query-replica.ts).
   */
  sendPeer(to: Tuple, body: Unnumbered<PeerMessage>, owner: Owner, maxTries?: number): PeerMessage {
    const addr = { ip: to.ip, port: to.port };
    const steady = body.t === 'find-event' || body.t === 'event-result';
    const msg = this.outbox.send(this.now, addr, body as WithoutRid<Numbered>, { kind: 'p2p', t: body.t, to: to.name, owner }, steady, maxTries) as PeerMessage;
    this.send('p', addr, msg, 1);
    return msg;
  }

  /** A message retried end to end by its originator, so not kept for retransmission here. */
  sendLoose(to: Tuple, body: Unnumbered<PeerMessage>, attempt = 1): void {
    this.send('p', { ip: to.ip, port: to.port }, this.outbox.stamp(body as WithoutRid<Numbered>), attempt);
  }

  /** Forget the retransmissions of an owner that no longer matters. */
  drop(owner: object): void {
    this.outbox.drop((p) => p.tag.kind === 'p2p' && p.tag.owner === owner);
  }

  /** Forget every peer message in flight (the ring is gone). */
  dropAllPeerMessages(): void {
    this.outbox.drop((p) => p.tag.kind === 'p2p');
  }

  /** Acknowledge a request (delayed and coalesced with others: reliable/acks.ts). */
  ack(via: Via, to: Addr, rid: number): void {
    const full = this.acks.add(this.now, via, to, rid);
    if (full) this.send(full.via, full.to, full.msg, 1);
  }

  /** The acks due, sent; deferred work is done only at a timeout that sends no ack (acks go first). */
  flushAcks(): void {
    const due = this.acks.flush(this.now);
    for (const a of due) this.send(a.via, a.to, a.msg, 1);
    if (due.length > 0 || this.deferred.length === 0) return;
    const work = this.deferred;
    this.deferred = [];
    for (const w of work) w();
  }

  /** When acks are due, or deferred work (at once). */
  ackDeadline(): number | undefined {
    const acks = this.acks.deadline();
    return this.deferred.length > 0 ? Math.min(this.now, acks ?? this.now) : acks;
  }

  /** Do `work` at the next timeout (see `deferred`). */
  defer(work: () => void): void {
    this.deferred.push(work);
  }

  complain(from: Addr, t: string, why: string): void {
    this.emit({ kind: 'note', verdict: 'ignored' });
    // Keyed without numbers, so 'n = 7 but 2 peers' and 'n = 8 but 3 peers' count as one kind.
    const line = this.complaints.note(this.now, `${t}:${why.replace(/[0-9]+/g, '#')}`, `ignored ${t} from ${from.ip}:${from.port}: ${why}`);
    if (line) this.print(line);
  }

  remember(peers: readonly Tuple[]): void {
    for (const p of peers) this.known.set(addrKey(p), p.name);
  }

  name(addr: Addr): string {
    return this.known.get(addrKey(addr)) ?? `${addr.ip}:${addr.port}`;
  }

  random(): number {
    return this.env.random();
  }

  /** The replay windows of ring senders under DHT secret `sec` (a new secret starts them afresh). */
  replayWindows(sec: string): ReplayGuard {
    if (this.ringIdsFor !== sec) {
      this.ringIds.clear();
      this.ringIdsFor = sec;
    }
    return this.ringIds;
  }

  /** A number nobody off the path can guess (a query id). */
  unguessable(): number {
    return numberOf(this.env.secret());
  }

  newEpoch(): number {
    return Math.floor(this.env.random() * 1e9);
  }
}

/** A sentence for another peer's console: one line of at most 300 characters (the schema's Text). */
export function sentence(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300);
}
