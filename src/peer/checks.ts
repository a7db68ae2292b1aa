// Checks of what peer messages claim, beyond their schema: a datagram can be well-typed and still
// describe an impossible ring or walk. The cores call these before acting on a message.
import type { Tuple } from '../protocol/messages.js';

/**
 * Why a query's walk cannot be continued, or null: every id below n, no node listed twice, and
 * not more nodes than the ring has; so a forged find-event cannot make a query bounce around.
 */
export function walkProblem(m: { remaining: number[] | null; idSeq: number[]; rep?: number }, ring: { n: number; id: number }): string | null {
  if (m.rep !== undefined) return replicaWalkProblem({ remaining: m.remaining, idSeq: m.idSeq, rep: m.rep }, ring);
  const ids = [...(m.remaining ?? []), ...m.idSeq];
  if (ids.some((i) => i >= ring.n)) return `a node id is not below n = ${ring.n}`;
  if (new Set(ids).size !== ids.length || ids.length > ring.n) return 'a node is listed twice';
  if (m.remaining?.includes(ring.id)) return 'this node is still listed as to be visited';
  return null;
}

/**
 * A walk redirected to a copy (`rep`, query-replica.ts) ends here: nothing left to visit, and the
 * path so far lists no node twice, except that this last node may have been visited before.
 */
function replicaWalkProblem(m: { remaining: number[] | null; idSeq: number[]; rep: number }, ring: { n: number; id: number }): string | null {
  if (m.remaining === null || m.remaining.length > 0) return 'a copy is asked for only by a member, at the end of a walk';
  if (m.rep >= ring.n || m.rep === ring.id) return `node ${m.rep} is not another node of this ring`;
  if (m.idSeq[m.idSeq.length - 1] !== ring.id) return 'the walk does not end at this node';
  const before = m.idSeq.slice(0, -1);
  if (before.some((i) => i >= ring.n)) return `a node id is not below n = ${ring.n}`;
  if (new Set(before).size !== before.length || before.length > ring.n) return 'a node is listed twice';
  return null;
}

/** Why a ring description (set-id, reset-id) cannot be used, or null: never trust n, id or s blindly. */
export function ringProblem(m: { id: number; n: number; peers: Tuple[]; s: number }): string | null {
  if (m.n !== m.peers.length) return `n = ${m.n} but ${m.peers.length} peers are listed`;
  if (m.id >= m.n) return `id ${m.id} is not below n = ${m.n}`;
  if (m.s < 2) return `table size ${m.s} is too small`;
  if (new Set(m.peers.map((p) => p.name)).size !== m.peers.length) return 'a peer is listed twice';
  return null;
}
