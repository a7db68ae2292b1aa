// The peer's one outstanding request to the manager (one at a time, as a person waits for an
// answer, docs/PROTOCOL.md §4.7): sent reliably, settled by the response with its request id,
// or answered locally with FAILURE NO_RESPONSE when the manager never answers.
import type { ManagerRequest } from '../protocol/requests.js';
import { sameAddr, type Addr, type Pending } from '../reliable/index.js';
import { assert } from '../runtime/assert.js';
import type { Numbered, PeerContext, Tag } from './context.js';
import type { Res } from './operation.js';

/** Requests waiting for the outstanding one: a repair's report may meet a typed command's request. */
const MAX_QUEUED = 2;

export class ManagerLink {
  private pending: { rid: number; req: ManagerRequest } | null = null;
  private readonly queued: { req: ManagerRequest; args: string[]; counts?: readonly number[] }[] = [];

  constructor(private readonly ctx: PeerContext) {}

  get busy(): boolean {
    return this.pending !== null;
  }

  /** Sent now, or after the outstanding request is answered (or given up on). */
  send(req: ManagerRequest, args: string[], counts?: readonly number[]): void {
    if (this.pending !== null) {
      assert(this.queued.length < MAX_QUEUED, `at most ${MAX_QUEUED} requests wait (${this.pending.req} is outstanding, ${req} asked)`);
      this.queued.push({ req, args, ...(counts ? { counts } : {}) });
      return;
    }
    const manager = this.ctx.manager;
    const tok = this.ctx.creds.token;
    const msg = this.ctx.outbox.send(this.ctx.now, manager, { t: 'cmd', cmd: req, args, ...(counts ? { counts: [...counts] } : {}), ...(tok !== null ? { tok } : {}) }, { kind: 'cmd', req });
    this.pending = { rid: msg.rid, req };
    this.ctx.send('m', manager, msg, 1);
  }

  /** The request a response answers, or null for a late duplicate of an answered one. */
  settle(from: Addr, res: Res): ManagerRequest | null {
    const p = this.ctx.outbox.settle(res.rid, from, this.ctx.now);
    const pending = this.pending;
    if (!p || !pending || pending.rid !== res.rid || !sameAddr(from, this.ctx.manager)) return null;
    this.pending = null;
    this.next();
    return pending.req;
  }

  private next(): void {
    const q = this.queued.shift();
    if (q) this.send(q.req, q.args, q.counts);
  }

  /** The outstanding request ran out of tries: the FAILURE to act on, as if the manager said it. */
  gaveUp(p: Pending<Numbered, Tag>): { req: ManagerRequest; res: Res } | null {
    const pending = this.pending;
    if (p.tag.kind !== 'cmd' || !pending || pending.rid !== p.rid) return null;
    this.pending = null;
    this.next();
    const m = this.ctx.manager;
    return { req: pending.req, res: { t: 'res', rid: p.rid, cmd: pending.req, code: 'FAILURE', reason: 'NO_RESPONSE', text: `the manager at ${m.ip}:${m.port} did not answer after ${p.tries} tries` } };
  }
}

export function responseLine(req: ManagerRequest, res: Res): string {
  return res.code === 'SUCCESS' ? `${req}: SUCCESS — ${res.text}` : `${req}: FAILURE ${res.reason ?? ''} — ${res.text}`;
}
