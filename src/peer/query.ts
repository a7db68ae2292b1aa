// query-dht (SPEC §3.2). The querying side asks for the event id if it was not typed, asks the
// manager for a member, and sends find-event. The first try is loose (no hop acknowledged: h + 1
// datagrams for h hops); every resend after a timeout is acknowledged and retransmitted hop by
// hop, so a long walk still gets through heavy loss (docs/PROTOCOL.md §4.9). The member side
// answers or passes the query on, and answers "not found" only as the record's own node with a
// complete table for the walk's ring; any node that cannot tell answers `busy`, and the querier
// waits, asks the manager again and starts a new walk, until --query-timeout. In a replicated
// ring a node that keeps a copy may answer for a silent record's node (query-replica.ts).
import { COLUMNS } from '../data/record.js';
import { fromLine } from '../data/line.js';
import { nodeOf, positionOf } from '../data/hash.js';
import type { MessageOf, Tuple, Unnumbered } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import { addrKey } from '../reliable/index.js';
import { assert } from '../runtime/assert.js';
import { parseEventId } from '../console/commands.js';
import { walkProblem } from './checks.js';
import { answer } from './answer.js';
import { answerFromReplica, hopTries } from './query-replica.js';
import { queryCapability, sameSecret } from '../protocol/secrets.js';
import { elapsed, type Host, type Res } from './operation.js';
import { peerAt, tupleOf } from './state.js';
import { responseLine } from './manager-link.js';

export { onHopLost } from './query-replica.js';

interface Walk { qid: number; cap: string; target: Tuple; tries: number; retryAt: number }

/** Where one query's lines go and how it says it is over (query-pool.ts keeps several in order). */
export interface QueryOut {
  print(line: string): void;
  done(query: Query): void;
}

/** Rounds (asking the manager again after a busy answer) per query, besides the deadline. */
const MAX_ROUNDS = 64;

/** One query-dht, from the event id to its answer (the console may run several: query-pool.ts). */
export class Query {
  phase: 'asking' | 'requesting' | 'walking' | 'waiting' = 'asking';
  private walk: Walk | null = null;
  startedAt = 0;
  /** Set by the manager's first SUCCESS: every wait and resend stops there. */
  private deadline = 0;
  /** Every walk's qid: a found record or an owner's "not found" is final, whichever walk it answers. */
  private readonly qids = new Set<number>();
  /** Asking the manager again, after a busy answer (its response lines are the query's own). */
  rounds = 0;
  /** Why the last node (or the manager) could not answer: the final line's reason. */
  private why: string | null = null;
  private waitUntil = 0;

  constructor(private readonly name: string, private eventId: number | null, private readonly out: QueryOut) {}

  start(host: Host): void {
    if (this.eventId === null) return this.out.print('event id?');
    this.ask(host);
  }

  /** While the console waits for an event id, the next line is that id. */
  onLine(host: Host, text: string): void {
    assert(this.phase === 'asking', 'a line for the event id while asking');
    const id = parseEventId(text.trim());
    if (id === null) {
      this.out.print(`query-dht: '${text.trim().slice(0, 30)}' is not an event id (a whole number); query not sent`);
      return this.out.done(this);
    }
    this.eventId = id;
    this.ask(host);
  }

  private ask(host: Host): void {
    this.phase = 'requesting';
    this.startedAt = host.ctx.now;
    host.request('query-dht', [this.name], undefined, this);
  }

  /** True while the manager's response belongs to a later round (printed by the query, not as a response line). */
  get retrying(): boolean {
    return this.rounds > 0;
  }

  onResponse(host: Host, res: Res): void {
    const ctx = host.ctx;
    // A round after a busy answer says in its own words what it got.
    if (!this.retrying) this.out.print(responseLine('query-dht', res));
    if (res.code === 'SUCCESS' && res.peer && res.cap === undefined) {
      this.out.print('query-dht: the manager\'s answer carries no query capability; query not sent');
      return this.out.done(this);
    }
    if (this.rounds === 0) {
      if (res.code !== 'SUCCESS' || !res.peer || res.cap === undefined || this.eventId === null) return this.out.done(this);
      this.deadline = ctx.now + ctx.config.queryTimeoutMs;
      return this.startWalk(host, res.peer, res.cap);
    }
    if (res.code === 'SUCCESS' && res.peer && res.cap !== undefined) {
      this.out.print(`query-dht: the manager says ask ${res.peer.name} (round ${this.rounds + 1})`);
      return this.startWalk(host, res.peer, res.cap);
    }
    if (res.reason === 'BUSY') {
      this.why = `the DHT is changing (${res.text})`;
      return this.wait(host, `the manager is busy: ${res.text}`);
    }
    // No DHT any more, the manager silent, …: no answer can come.
    this.giveUp(host, `${res.reason ?? res.code}: ${res.text}`);
  }

  /** `cap`: the manager's capability for this querier's tuple, which the first member checks (PROTOCOL §8). */
  private startWalk(host: Host, target: Tuple, cap: string): void {
    const ctx = host.ctx;
    const walk = { qid: ctx.unguessable(), cap, target, tries: 1, retryAt: Math.min(this.deadline, ctx.now + ctx.outbox.rto(target)) };
    this.walk = walk;
    this.qids.add(walk.qid);
    this.phase = 'walking';
    ctx.remember([target]);
    ctx.sendLoose(target, this.findEvent(host, walk));
  }

  private findEvent(host: Host, walk: Walk): Unnumbered<MessageOf<'find-event'>> {
    assert(this.eventId !== null, 'an event id before the walk');
    return { t: 'find-event', qid: walk.qid, eventId: this.eventId, sender: tupleOf(host.self()), remaining: null, idSeq: [], cap: walk.cap };
  }

  get retryAt(): number | undefined {
    if (this.phase === 'walking') return this.walk?.retryAt;
    if (this.phase === 'waiting') return this.waitUntil;
    return undefined;
  }

  onTimeout(host: Host): void {
    const ctx = host.ctx;
    if (this.phase === 'waiting') {
      if (ctx.now < this.waitUntil) return;
      if (ctx.now >= this.deadline || this.rounds >= MAX_ROUNDS) return this.giveUp(host, null);
      this.rounds += 1;
      this.phase = 'requesting';
      host.request('query-dht', [this.name], undefined, this);
      return;
    }
    const walk = this.walk;
    if (this.phase !== 'walking' || !walk || ctx.now < walk.retryAt) return;
    if (ctx.now >= this.deadline) return this.giveUp(host, null);
    walk.tries += 1;
    // The first try was loose; this one is acknowledged and retransmitted hop by hop (and kept
    // here until the first member acknowledges it), so loss on a long walk no longer matters. A
    // new walk is needed only if one of its hops gives up (a node died): one per retry ceiling.
    walk.retryAt = Math.min(this.deadline, ctx.now + ctx.config.retry.maxRtoMs);
    ctx.sendPeer(walk.target, { ...this.findEvent(host, walk), ack: true }, this);
  }

  /** A hop of ours was never acknowledged (the member is gone): ask the manager for another. */
  onHopFailed(host: Host, why: string): void {
    if (this.phase !== 'walking') return;
    this.why = why;
    this.wait(host, why);
  }

  /** Wait (doubling per round, at most the retry ceiling) and then ask the manager again. */
  private wait(host: Host, why: string): void {
    const ctx = host.ctx;
    host.ctx.drop(this);
    const pause = Math.min(ctx.config.retry.maxRtoMs, ctx.config.retry.rtoMs * 2 ** Math.min(this.rounds, 16));
    if (ctx.now + pause >= this.deadline) return this.giveUp(host, null);
    this.phase = 'waiting';
    this.waitUntil = ctx.now + pause;
    this.out.print(`query-dht: ${why}; asking the manager again in ${(pause / 1000).toFixed(1)} s`);
  }

  /** No answer: one line with the reason, never "not found". */
  private giveUp(host: Host, detail: string | null): void {
    const ctx = host.ctx;
    const within = `within ${ctx.config.queryTimeoutMs / 1000} s`;
    if (detail !== null) this.out.print(`query-dht: no answer for event ${this.eventId}: ${detail} — try again`);
    else if (this.why !== null) this.out.print(`query-dht: ${this.why}; no answer for event ${this.eventId} ${within} — try again`);
    else this.out.print(`query-dht: no answer for event ${this.eventId} from ${this.walk?.target.name ?? 'the DHT'} ${within} (${this.walk?.tries ?? 0} tries)`);
    this.out.done(this);
  }

  /** The answer: every field on its own labelled line, then the id-seq. Late answers are dropped. */
  onResult(host: Host, from: Addr, m: MessageOf<'event-result'>): boolean {
    if (!this.qids.has(m.qid)) return false;
    const ctx = host.ctx;
    if (m.by) ctx.known.set(addrKey(from), m.by);
    if (m.busy !== undefined) {
      // Only the current walk's: an earlier walk's busy answer says nothing about the new one.
      if (this.phase === 'walking' && m.qid === this.walk?.qid) {
        this.why = m.busy;
        this.wait(host, `${m.by ?? ctx.name(from)} cannot answer now: ${m.busy}`);
      }
      return true;
    }
    const record = m.found ? m.record : undefined;
    if (record) COLUMNS.forEach((c, i) => this.out.print(`${c}: ${printable(record[i] ?? '')}`));
    else this.out.print(`Storm event ${m.eventId} not found in the DHT.`);
    this.out.print(`id-seq: ${m.idSeq.join(', ')}`);
    // A copy answered: say so, and whose records it copies (that node did not acknowledge the walk).
    const replica = m.of === undefined ? '' : ` by a replica: ${m.by ?? ctx.name(from)} keeps a copy of node ${m.of}'s records (node ${m.of} did not answer)`;
    this.out.print(`query-dht: answered in ${elapsed(host, this.startedAt)} ms${replica}`);
    this.out.done(this);
    return true;
  }
}

type FindEvent = MessageOf<'find-event'>;

/**
 * find-event at a peer. A found record is always the answer (every table holds only the year's
 * true records). "Not found" comes only from the record's own node (pos mod n), in the walk's
 * ring, with a complete table; any other node that would have to say it, or a node of another
 * ring, or one that is not in a ring at all, answers busy. Otherwise the walk goes on.
 */
export function onFindEvent(host: Host, m: FindEvent): string | null {
  const ctx = host.ctx;
  if (host.state.kind !== 'member') {
    if (host.state.kind === 'unregistered') return 'this peer is not registered';
    // A querier's first hop to a member that has just left: tell it to ask the manager again.
    // A walk passed on by a member of a stale ring is refused like any stranger's.
    if (m.remaining !== null || m.cap === undefined) return 'this peer is not in a DHT';
    answer(host, m, { found: false, busy: 'this peer is not in a DHT (it may have just left)' }, m.idSeq);
    return null;
  }
  const member = host.state;
  const { ring } = member;
  // The first hop comes from a Free querier, with the manager's capability for its tuple; every
  // later hop from a member, with the DHT's secret (PROTOCOL §8).
  if (m.remaining === null ? !sameSecret(m.cap, queryCapability(ring.sec, m.sender)) : !sameSecret(m.sec, ring.sec)) {
    return m.remaining === null ? 'a first hop without the manager\'s capability for its sender' : 'without the secret of this peer\'s DHT';
  }
  // A walk that could not be made in this ring is refused first (a forged one gets no answer).
  const bad = walkProblem(m, ring);
  if (bad) return `bad find-event: ${bad}`;
  if (m.remaining !== null && (m.epoch !== ring.epoch || m.dht !== ring.dht)) {
    answer(host, m, { found: false, busy: member.complete ? 'the DHT was rebuilt while the query walked' : member.changing }, m.idSeq);
    return null;
  }
  ctx.remember([m.sender]);
  if (m.rep !== undefined) return answerFromReplica(host, m, m.rep, m.idSeq);
  const pos = positionOf(m.eventId, ring.s);
  const idSeq = m.remaining === null ? [ring.id] : m.idSeq;
  const line = host.table.find(pos, m.eventId);
  const rec = line === undefined ? undefined : fromLine(line) ?? undefined;
  if (rec) {
    answer(host, m, { found: true, record: rec }, idSeq);
    return null;
  }
  const remaining = m.remaining ?? ring.peers.map((_, i) => i).filter((i) => i !== ring.id);
  const owner = nodeOf(pos, ring.n) === ring.id;
  if (owner || remaining.length === 0) {
    // The walk always reaches the owner before it runs out of nodes; running out means the ring
    // changed under it, and only a complete table can say "not here".
    const final = owner && member.complete;
    answer(host, m, final ? { found: false } : { found: false, busy: owner ? member.changing : 'the walk missed the record\'s node' }, idSeq);
    return null;
  }
  const pick = Math.floor(ctx.random() * remaining.length);
  const next = remaining[pick];
  assert(next !== undefined, 'a pick within remaining');
  const body: Unnumbered<FindEvent> = {
    t: 'find-event', sec: ring.sec, qid: m.qid, eventId: m.eventId, sender: m.sender,
    remaining: remaining.filter((_, i) => i !== pick), idSeq: [...idSeq, next], epoch: ring.epoch, dht: ring.dht,
    ...(m.ack ? { ack: true as const } : {}),
  };
  if (m.ack) ctx.sendPeer(peerAt(ring, next), body, null, hopTries(ring));
  else ctx.sendLoose(peerAt(ring, next), body);
  return null;
}

/** A field as one console line: control characters (a quoted CSV field may hold a newline) shown escaped. */
function printable(field: string): string {
  return field.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
