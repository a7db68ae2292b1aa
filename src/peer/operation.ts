// What an operation may ask of the peer it runs in, and the union of all operations. Each
// operation is one object with a `phase`; the core holds at most one, and dropping it drops
// everything it owns (its outbox entries, its store stream, its loaded data) in one place.
import type { MessageOf, Tuple } from '../protocol/messages.js';
import type { ManagerRequest } from '../protocol/requests.js';
import type { PeerContext } from './context.js';
import type { Me, Member, PeerState, Ring } from './state.js';
import type { LocalTable } from './table.js';
import type { RegisterOp } from './register.js';
import type { SetupOp } from './setup.js';
import type { QueryOp } from './query-pool.js';
import type { LeaveOp } from './leave.js';
import type { JoinOp } from './join.js';
import type { TeardownOp } from './teardown.js';
import type { AdmitOp } from './admit.js';
import type { RebuildOp } from './rebuild.js';
import type { RepairOp } from './repair.js';

export type Res = MessageOf<'res'>;

export type Operation = RegisterOp | SetupOp | QueryOp | LeaveOp | JoinOp | TeardownOp | AdmitOp | RebuildOp | RepairOp;

export interface Host {
  readonly ctx: PeerContext;
  readonly table: LocalTable;
  readonly state: PeerState;
  readonly op: Operation | null;
  /** Make `op` the current operation (there is none). */
  start(op: Operation): void;
  /** `op` is over: drop it and everything it owns. */
  finish(op: Operation): void;
  /** Send a request to the manager (dht-complete, dht-rebuilt: with the per-node counts); its response comes back through RESPONSES (commands.ts). */
  request(req: ManagerRequest, args: string[], counts?: readonly number[], owner?: object): void;
  /** A setup, leave or join cannot finish: say so, drop it, leave the ring, send dht-abort. */
  abort(why: string): void;
  registered(me: Me): void;
  unregister(): void;
  /**
   * Take a (new) ring: the table and any relay of the previous one are dropped, and the table is
   * not complete (`changing` says why, for queriers) until store-end of its epoch passes.
   */
  enterRing(ring: Ring, renumberedBy: Tuple | null, changing: string): Member;
  /** Forget the ring (this peer is Free): table and relay dropped. */
  leaveRing(): void;
  /** The member state; asserts that this peer is in a ring. */
  member(): Member;
  self(): Me;
}

/** Time since an operation's request went to the manager, for its duration line. */
export function elapsed(host: Host, startedAt: number): string {
  return (host.ctx.now - startedAt).toFixed(1);
}
