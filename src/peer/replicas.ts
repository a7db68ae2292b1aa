// Replication (issue 8): the records of node k are also kept, as copies, at nodes k+1 … k+r−1
// (mod n), in a replica table per owner beside the node's own table. The own tables, the SPEC's
// counts and the queries are unchanged while the owner answers; a query whose owner does not
// acknowledge is answered from a copy (query.ts). Everything here is arithmetic on the ring, so
// every member, knowing n and r from set-id or reset-id, computes the same placement.
import type { Ring } from './state.js';

/** The copies actually kept: r, but never more than the ring has nodes (a leave may shrink it). */
export function replicationOf(ring: Pick<Ring, 'r' | 'n'>): number {
  return Math.max(1, Math.min(ring.r, ring.n));
}

/** The nodes that keep a copy of node `owner`'s records, nearest first: owner+1 … owner+r−1 (mod n). */
export function replicaHolders(ring: Pick<Ring, 'r' | 'n'>, owner: number): number[] {
  const out: number[] = [];
  for (let j = 1; j < replicationOf(ring); j++) out.push((owner + j) % ring.n);
  return out;
}

/** Whether node `holder` keeps a copy of node `owner`'s records. */
export function holdsReplicaOf(ring: Pick<Ring, 'r' | 'n'>, holder: number, owner: number): boolean {
  const d = (holder - owner + ring.n) % ring.n;
  return d >= 1 && d < replicationOf(ring);
}

/** The `r` field of set-id and reset-id: absent for r = 1, so an unreplicated ring's datagrams are as before. */
export function rField(ring: Pick<Ring, 'r'>): { r?: number } {
  return ring.r > 1 ? { r: ring.r } : {};
}
