// The peer's state as one discriminated union: not registered, registered and Free, or a member
// of a ring. What the peer is doing on top of that (at most one operation) lives beside it in
// the core; which messages each state accepts is in accepts.ts.
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import type { StoreStream } from './store.js';

export interface Me { name: string; ip: string; mport: number; pport: number }
export interface Ring {
  id: number; n: number; peers: Tuple[]; year: number; s: number; epoch: number; dht: number;
  /** The DHT's secret from the manager (PROTOCOL §8): every ring message carries it. */
  sec: string;
  /**
   * Replication: each record is kept at its node and, as a copy, at the next r − 1 nodes
   * (replicas.ts). 1: no copies (SPEC). Set by the setup's leader, carried by set-id and reset-id.
   */
  r: number;
}

export type PeerState =
  | { kind: 'unregistered' }
  | { kind: 'free'; me: Me }
  | {
    kind: 'member'; me: Me; ring: Ring;
    /** The store stream this node relays toward its right neighbour (not the leader's own). */
    relay: StoreStream | null;
    /** Who last renumbered this ring (rebuild-dht is taken only from them, once). */
    renumberedBy: Tuple | null;
    /**
     * The table holds every record of this ring's epoch that hashes to this node: store-end for
     * the epoch has passed this node (at the leader: it routed the file). Only then may this node
     * answer a query "not found". Cleared by a new ring (set-id, reset-id) and by a teardown.
     */
    complete: boolean;
    /** While the table is not complete: what is happening to it, in words a querier is shown. */
    changing: string;
  };

export type Member = Extract<PeerState, { kind: 'member' }>;

export function meOf(state: PeerState): Me | null {
  return state.kind === 'unregistered' ? null : state.me;
}

export function tupleOf(me: Me): Tuple {
  return { name: me.name, ip: me.ip, port: me.pport };
}

/** The ring's shape: n = peers.length, 0 ≤ id < n, and this peer's own tuple at its id. */
export function assertRing(ring: Ring, me: Me): void {
  assert(ring.n === ring.peers.length && ring.n >= 1, `ring of n = ${ring.n} lists ${ring.peers.length} peers`);
  assert(Number.isInteger(ring.id) && ring.id >= 0 && ring.id < ring.n, `id ${ring.id} outside 0..${ring.n - 1}`);
  const mine = ring.peers[ring.id];
  assert(mine !== undefined && mine.name === me.name && mine.port === me.pport, `the tuple at id ${ring.id} is not this peer's`);
}

export function rightOf(ring: Ring): Tuple {
  const right = ring.peers[(ring.id + 1) % ring.n];
  assert(right !== undefined, 'a ring has a right neighbour');
  return right;
}

export function peerAt(ring: Ring, id: number): Tuple {
  const p = ring.peers[id];
  assert(p !== undefined, `node ${id} exists in a ring of ${ring.n}`);
  return p;
}

/** "1 record", "2 records": counts the peer prints. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
