// Queries in a replicated ring (replicas.ts, r > 1). A walk goes as in the SPEC and the record's
// node answers while it is alive. When a forwarder's acknowledged hop is never acknowledged (the
// outbox gave up after SUSPECT_TRIES: the node is suspected), the forwarder does not let the walk die:
//  - the silent node was the record's node k: ask the nearest node that keeps a copy of k's
//    records (k+1, then k+2 … k+r−1 if those are silent too), marking the find-event `rep: k`;
//    if this forwarder keeps the copy itself, it answers at once;
//  - another node: the record is not there anyway, so the walk goes on among the others.
// A copy answers "not found" only when it is complete for the walk's ring (store-end of that
// epoch has passed it), exactly the rule for the record's own node, so no answer is ever wrong.
// Loose walks (a querier's first try) are never redirected: nobody learns that a hop was lost;
// the querier's acknowledged retry is. With r = 1 nothing here applies.
import { fromLine } from '../data/line.js';
import { nodeOf, positionOf } from '../data/hash.js';
import type { Message, MessageOf, Unnumbered } from '../protocol/messages.js';
import { answer } from './answer.js';
import type { Host } from './operation.js';
import { holdsReplicaOf, replicaHolders, replicationOf } from './replicas.js';
import { peerAt, type Ring } from './state.js';

type FindEvent = MessageOf<'find-event'>;

/**
 * Silent timeouts after which a member's acknowledged query hop is given up on in a replicated
 * ring (instead of the retry policy's 10): the walk has somewhere else to go, and a hop given up
 * on too soon costs nothing but an answer from a copy (as right as the owner's) or a detour.
 */
export const SUSPECT_TRIES = 3;

/** The tries of a member's acknowledged query hop: fewer when the ring keeps copies, else the policy's. */
export function hopTries(ring: Ring): number | undefined {
  return replicationOf(ring) > 1 ? SUSPECT_TRIES : undefined;
}

/**
 * A find-event asking for the copy of node `m.rep`'s records (its checks and epoch already
 * passed): answer from the copy, or say why not (null: answered).
 */
export function answerFromReplica(host: Host, m: FindEvent, owner: number, idSeq: number[]): string | null {
  const member = host.member();
  const { ring } = member;
  if (!holdsReplicaOf(ring, ring.id, owner)) return `asks for a copy of node ${owner}'s records, which this node does not keep`;
  const pos = positionOf(m.eventId, ring.s);
  if (nodeOf(pos, ring.n) !== owner) return `asks node ${owner}'s copy for event ${m.eventId}, which is not node ${owner}'s`;
  const line = host.table.findReplica(owner, pos, m.eventId);
  const record = line === undefined ? undefined : fromLine(line) ?? undefined;
  if (record) answer(host, m, { found: true, record, of: owner }, idSeq);
  else if (member.complete) answer(host, m, { found: false, of: owner }, idSeq);
  else answer(host, m, { found: false, busy: member.changing }, idSeq);
  return null;
}

/** A query hop this peer passed on was never acknowledged: redirect the walk if it can be, else say so. */
export function onHopLost(host: Host, msg: Message, why: string): void {
  if (msg.t !== 'find-event' || !redirect(host, msg, why)) host.ctx.print(`query: ${why}`);
}

/** True when the walk went on (or was answered here). */
function redirect(host: Host, m: FindEvent, why: string): boolean {
  const s = host.state;
  if (s.kind !== 'member' || !m.ack || m.remaining === null) return false;
  const { ring } = s;
  if (m.epoch !== ring.epoch || m.dht !== ring.dht || replicationOf(ring) < 2) return false;
  const lost = m.idSeq[m.idSeq.length - 1];
  if (lost === undefined) return false;
  const prefix = m.idSeq.slice(0, -1);
  const owner = nodeOf(positionOf(m.eventId, ring.s), ring.n);
  let next: number | undefined;
  let rep: number | undefined;
  let remaining: number[] = [];
  if (m.rep !== undefined) {
    // A node keeping a copy was silent too: the next one that keeps a copy.
    const holders = replicaHolders(ring, m.rep);
    const i = holders.indexOf(lost);
    next = i < 0 ? undefined : holders[i + 1];
    rep = m.rep;
    if (next === undefined) {
      host.ctx.print(`query: ${why}; no other node keeps a copy of node ${m.rep}'s records`);
      return true;
    }
  } else if (lost === owner) {
    next = replicaHolders(ring, owner)[0];
    rep = owner;
  } else {
    // Not the record's node: it was only a step of the walk, which goes on among the others.
    if (m.remaining.length === 0) return false;
    const pick = Math.floor(host.ctx.random() * m.remaining.length);
    next = m.remaining[pick];
    remaining = m.remaining.filter((_, i) => i !== pick);
  }
  if (next === undefined) return false;
  host.ctx.print(`query: ${why}; ${rep === undefined ? `the walk goes on to node ${next}` : `asking node ${next}, which keeps a copy of node ${rep}'s records`}`);
  if (rep !== undefined && next === ring.id) {
    answerFromReplica(host, m, rep, prefix);
    return true;
  }
  const body: Unnumbered<FindEvent> = {
    t: 'find-event', sec: ring.sec, qid: m.qid, eventId: m.eventId, sender: m.sender,
    remaining, idSeq: [...prefix, next], epoch: ring.epoch, dht: ring.dht, ack: true, ...(rep === undefined ? {} : { rep }),
  };
  host.ctx.sendPeer(peerAt(ring, next), body, null, hopTries(ring));
  return true;
}
