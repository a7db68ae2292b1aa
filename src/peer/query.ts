// query-dht (SPEC §3.2). The querying side asks for the event id if it was not typed, asks the
// manager for a member, and sends find-event, again on a timeout (same qid, doubling the wait)
// until --query-timeout: queries are read-only, so they are made reliable end to end, as DNS
// does, and hops are not acknowledged. The member side answers or passes the query on.
import { COLUMNS } from '../data/record.js';
import { fromLine } from '../data/line.js';
import { nodeOf, positionOf } from '../data/hash.js';
import type { MessageOf, Tuple, Unnumbered } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import { addrKey } from '../reliable/index.js';
import { assert } from '../runtime/assert.js';
import { queryCapability, sameSecret } from '../protocol/secrets.js';
import { parseEventId } from '../console/commands.js';
import { walkProblem } from './checks.js';
import { elapsed, type Host, type Res } from './operation.js';
import { peerAt, tupleOf } from './state.js';

interface Walk { qid: number; cap: string; target: Tuple; deadline: number; tries: number; retryAt: number }

export class QueryOp {
  readonly kind = 'query';
  phase: 'asking' | 'requesting' | 'walking' = 'asking';
  private walk: Walk | null = null;
  startedAt = 0;

  constructor(private readonly name: string, private eventId: number | null) {}

  start(host: Host): void {
    if (this.eventId === null) return host.ctx.print('event id?');
    this.ask(host);
  }

  /** While the console waits for an event id, the next line is that id. */
  onLine(host: Host, text: string): void {
    assert(this.phase === 'asking', 'a line for the event id while asking');
    const id = parseEventId(text.trim());
    if (id === null) {
      host.ctx.print(`query-dht: '${text.trim().slice(0, 30)}' is not an event id (a whole number); query not sent`);
      return host.finish(this);
    }
    this.eventId = id;
    this.ask(host);
  }

  private ask(host: Host): void {
    this.phase = 'requesting';
    this.startedAt = host.ctx.now;
    host.request('query-dht', [this.name]);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS' || !res.peer || this.eventId === null) return host.finish(this);
    if (res.cap === undefined) {
      host.ctx.print('query-dht: the manager\'s answer carries no query capability; query not sent');
      return host.finish(this);
    }
    const ctx = host.ctx;
    const walk = { qid: ctx.unguessable(), cap: res.cap, target: res.peer, deadline: ctx.now + ctx.config.queryTimeoutMs, tries: 1, retryAt: ctx.now + ctx.outbox.rto(res.peer) };
    this.walk = walk;
    this.phase = 'walking';
    ctx.remember([res.peer]);
    ctx.sendLoose(res.peer, this.findEvent(host, walk));
  }

  private findEvent(host: Host, walk: Walk): Unnumbered<MessageOf<'find-event'>> {
    assert(this.eventId !== null, 'an event id before the walk');
    return { t: 'find-event', qid: walk.qid, eventId: this.eventId, sender: tupleOf(host.self()), remaining: null, idSeq: [], cap: walk.cap };
  }

  get retryAt(): number | undefined {
    return this.walk?.retryAt;
  }

  onTimeout(host: Host): void {
    const walk = this.walk;
    const ctx = host.ctx;
    if (!walk || ctx.now < walk.retryAt) return;
    if (ctx.now >= walk.deadline) {
      ctx.print(`query-dht: no answer for event ${this.eventId} from ${walk.target.name} within ${ctx.config.queryTimeoutMs / 1000} s (${walk.tries} tries)`);
      return host.finish(this);
    }
    walk.tries += 1;
    const backoff = Math.min(ctx.config.retry.maxRtoMs, ctx.outbox.rto(walk.target) * 2 ** (walk.tries - 1));
    walk.retryAt = Math.min(walk.deadline, ctx.now + backoff);
    ctx.sendLoose(walk.target, this.findEvent(host, walk), walk.tries);
  }

  /** The answer: every field on its own labelled line, then the id-seq. Late answers are dropped. */
  onResult(host: Host, from: Addr, m: MessageOf<'event-result'>): boolean {
    if (this.walk?.qid !== m.qid) return false;
    const ctx = host.ctx;
    if (m.by) ctx.known.set(addrKey(from), m.by);
    const record = m.found ? m.record : undefined;
    if (record) COLUMNS.forEach((c, i) => ctx.print(`${c}: ${printable(record[i] ?? '')}`));
    else ctx.print(`Storm event ${m.eventId} not found in the DHT.`);
    ctx.print(`id-seq: ${m.idSeq.join(', ')}`);
    ctx.print(`query-dht: answered in ${elapsed(host, this.startedAt)} ms`);
    host.finish(this);
    return true;
  }
}

/** find-event at a member: answer if the record is here or nobody is left, else pass it on. */
export function onFindEvent(host: Host, m: MessageOf<'find-event'>): string | null {
  if (host.state.kind !== 'member') return 'this peer is not in a DHT';
  const { ring, me } = host.state;
  // The first hop comes from a Free querier, with the manager's capability for its tuple; every
  // later hop from a member, with the DHT's secret (PROTOCOL §8).
  if (m.remaining === null ? !sameSecret(m.cap, queryCapability(ring.sec, m.sender)) : !sameSecret(m.sec, ring.sec)) {
    return m.remaining === null ? 'a first hop without the manager\'s capability for its sender' : 'without the secret of this peer\'s DHT';
  }
  const bad = walkProblem(m, ring);
  if (bad) return `bad find-event: ${bad}`;
  const ctx = host.ctx;
  ctx.remember([m.sender]);
  const pos = positionOf(m.eventId, ring.s);
  const idSeq = m.remaining === null ? [ring.id] : m.idSeq;
  const line = host.table.find(pos, m.eventId);
  const rec = line === undefined ? undefined : fromLine(line) ?? undefined;
  const remaining = m.remaining ?? ring.peers.map((_, i) => i).filter((i) => i !== ring.id);
  if (rec || nodeOf(pos, ring.n) === ring.id || remaining.length === 0) {
    ctx.sendLoose(m.sender, { t: 'event-result', qid: m.qid, eventId: m.eventId, found: rec !== undefined, ...(rec ? { record: rec } : {}), idSeq, by: me.name });
    return null;
  }
  const pick = Math.floor(ctx.random() * remaining.length);
  const next = remaining[pick];
  assert(next !== undefined, 'a pick within remaining');
  ctx.sendLoose(peerAt(ring, next), {
    t: 'find-event', sec: ring.sec, qid: m.qid, eventId: m.eventId, sender: m.sender,
    remaining: remaining.filter((_, i) => i !== pick), idSeq: [...idSeq, next],
  });
  return null;
}

/** A field as one console line: control characters (a quoted CSV field may hold a newline) shown escaped. */
function printable(field: string): string {
  return field.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
