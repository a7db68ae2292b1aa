// The answer to a find-event (event-result), sent straight to the querier: by the record's node,
// by a node that cannot answer now (busy), or by a node that keeps a copy of the record's node's
// records (replicas: `of`). Shared by query.ts and query-replica.ts.
import type { MessageOf, Unnumbered } from '../protocol/messages.js';
import { sentence } from './context.js';
import type { Host } from './operation.js';

type FindEvent = MessageOf<'find-event'>;

export interface Answer {
  found: boolean;
  record?: string[];
  busy?: string;
  /** Answered from this node's copy of node `of`'s records (`of` did not acknowledge). */
  of?: number;
}

/** event-result to the querier: loose for a loose walk, acknowledged for an acknowledged one. */
export function answer(host: Host, m: FindEvent, what: Answer, idSeq: number[]): void {
  const me = host.state.kind === 'unregistered' ? null : host.state.me;
  const body: Unnumbered<MessageOf<'event-result'>> = {
    t: 'event-result', qid: m.qid, eventId: m.eventId, found: what.found, ...(what.record ? { record: what.record } : {}),
    idSeq, ...(me ? { by: me.name } : {}), ...(what.busy !== undefined ? { busy: sentence(what.busy) } : {}), ...(m.ack ? { ack: true as const } : {}),
    ...(what.of !== undefined && what.busy === undefined ? { of: what.of } : {}),
  };
  if (m.ack) host.ctx.sendPeer(m.sender, body, null);
  else host.ctx.sendLoose(m.sender, body);
}
