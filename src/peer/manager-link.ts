// The peer's requests to the manager (one at a time, as a person waits for an answer,
// docs/PROTOCOL.md §4.7; only query-dht requests may be several at once, for the queries a
// script runs together, query-pool.ts): sent reliably, settled by the response with its request
// id, or answered locally with FAILURE NO_RESPONSE when the manager never answers.
import type { ManagerRequest } from '../protocol/requests.js';
import { sameAddr, type Addr, type Pending } from '../reliable/index.js';
import { assert } from '../runtime/assert.js';
import type { Numbered, PeerContext, Tag } from './context.js';
import type { Res } from './operation.js';

/** Requests waiting for the outstanding ones: a repair's report may meet a typed command's request. */
const MAX_QUEUED = 2;
/** Outstanding query-dht requests at most (the console runs at most this many queries); well within the manager's window of request ids (manager/rids.ts). */
export const MAX_QUERIES_IN_FLIGHT = 64;

interface Request { req: ManagerRequest; owner?: object }
interface Waiting extends Request { args: string[]; counts?: readonly number[] }

export class ManagerLink {
  private readonly pending = new Map<number, Request>();
  private readonly queued: Waiting[] = [];

  constructor(private readonly ctx: PeerContext) {}

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Sent now, or after the outstanding requests are answered (or given up on). `owner`: who the
   * response is for, when several requests of one kind are out (a query of several).
   */
  send(req: ManagerRequest, args: string[], counts?: readonly number[], owner?: object): void {
    if (!this.mayJoin(req)) {
      assert(this.queued.length < MAX_QUEUED + MAX_QUERIES_IN_FLIGHT, `at most ${MAX_QUEUED} requests wait besides queries (${req} asked)`);
      this.queued.push({ req, args, ...(counts ? { counts } : {}), ...(owner ? { owner } : {}) });
      return;
    }
    this.transmit(req, args, counts, owner);
  }

  private transmit(req: ManagerRequest, args: string[], counts?: readonly number[], owner?: object): void {
    const manager = this.ctx.manager;
    const tok = this.ctx.creds.token;
    const msg = this.ctx.outbox.send(this.ctx.now, manager, { t: 'cmd', cmd: req, args, ...(counts ? { counts: [...counts] } : {}), ...(tok !== null ? { tok } : {}) }, { kind: 'cmd', req });
    this.pending.set(msg.rid, { req, ...(owner ? { owner } : {}) });
    this.ctx.send('m', manager, msg, 1);
  }

  /** Nothing is out, or only queries and this is one more (and nothing waits before it). */
  private mayJoin(req: ManagerRequest): boolean {
    if (this.pending.size === 0) return this.queued.length === 0;
    if (req !== 'query-dht' || this.queued.length > 0 || this.pending.size >= MAX_QUERIES_IN_FLIGHT) return false;
    for (const p of this.pending.values()) if (p.req !== 'query-dht') return false;
    return true;
  }

  /** The request a response answers (and its owner), or null for a late duplicate of an answered one. */
  settle(from: Addr, res: Res): Request | null {
    const p = this.ctx.outbox.settle(res.rid, from, this.ctx.now);
    const pending = this.pending.get(res.rid);
    if (!p || !pending || !sameAddr(from, this.ctx.manager)) return null;
    this.pending.delete(res.rid);
    this.next();
    return pending;
  }

  /** Waiting requests go out in order, as far as they may. */
  private next(): void {
    // Bounded by the queue: each pass sends one.
    for (let q = this.queued[0]; q !== undefined; q = this.queued[0]) {
      if (this.pending.size > 0 && (q.req !== 'query-dht' || !this.mayJoinQueued())) return;
      this.queued.shift();
      this.transmit(q.req, q.args, q.counts, q.owner);
    }
  }

  private mayJoinQueued(): boolean {
    for (const p of this.pending.values()) if (p.req !== 'query-dht') return false;
    return this.pending.size < MAX_QUERIES_IN_FLIGHT;
  }

  /** An outstanding request ran out of tries: the FAILURE to act on, as if the manager said it. */
  gaveUp(p: Pending<Numbered, Tag>): (Request & { res: Res }) | null {
    const pending = this.pending.get(p.rid);
    if (p.tag.kind !== 'cmd' || !pending) return null;
    this.pending.delete(p.rid);
    this.next();
    const m = this.ctx.manager;
    return { ...pending, res: { t: 'res', rid: p.rid, cmd: pending.req, code: 'FAILURE', reason: 'NO_RESPONSE', text: `the manager at ${m.ip}:${m.port} did not answer after ${p.tries} tries` } };
  }
}

export function responseLine(req: ManagerRequest, res: Res): string {
  return res.code === 'SUCCESS' ? `${req}: SUCCESS — ${res.text}` : `${req}: FAILURE ${res.reason ?? ''} — ${res.text}`;
}
