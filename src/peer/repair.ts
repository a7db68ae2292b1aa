// Repair (our design, PROTOCOL §4.12): the manager declared a member dead and told this peer, the
// leader of the ring without it (the old leader, or the next member when the leader is the dead
// one), to repair. Renumber the survivors in their ring order from here (reset-id, which also
// drops every table: nobody can pass a teardown through the dead node), load the year's file,
// distribute it, print the counts as a setup does, and report dht-rebuilt to the manager.
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { printCounts } from './distribution.js';
import { elapsed, type Host, type Res } from './operation.js';
import { FileRebuild } from './rebuild.js';
import { peerAt, plural, tupleOf, type Ring } from './state.js';
import { rField } from './replicas.js';

export class RepairOp extends FileRebuild<'renumbering' | 'reporting'> {
  readonly kind = 'repair';
  phase: 'renumbering' | 'loading' | 'distributing' | 'reporting' = 'renumbering';

  constructor(readonly dead: string, self: Tuple, year: number, readonly startedAt: number) {
    super(self, year);
  }

  start(host: Host): void {
    const { ring } = host.member();
    const survivors = survivorsFrom(ring, this.dead, host.self().name);
    const changing = `the DHT is being repaired (${this.dead} is dead)`;
    const next = host.enterRing({ ...ring, id: 0, n: survivors.length, peers: survivors, epoch: host.ctx.newEpoch() }, null, changing).ring;
    host.ctx.remember(survivors);
    host.ctx.print(`repair: ${this.dead} is dead; renumbering ${plural(next.n, 'node')} without it, ${host.self().name} leads`);
    if (next.n === 1) return this.load(host);
    host.ctx.sendPeer(peerAt(next, 1), { t: 'reset-id', sec: next.sec, origin: tupleOf(host.self()), id: 1, n: next.n, peers: survivors, year: next.year, s: next.s, epoch: next.epoch, dht: next.dht, ...rField(next) }, this);
  }

  onResetReturned(host: Host): void {
    assert(this.phase === 'renumbering', 'reset-id returns after renumbering');
    host.ctx.print('repair: renumbered; rebuilding from the file');
    this.load(host);
  }

  /** store-end came back: the same count lines as a setup, then the report to the manager. */
  override onDistributed(host: Host, counts: number[], replicas?: number[]): void {
    this.stream = null;
    const { ring } = host.member();
    printCounts(host, ring, counts, 'repair', replicas);
    this.phase = 'reporting';
    host.request('dht-rebuilt', [host.self().name, host.self().name], counts);
  }

  onCompleted(host: Host, res: Res): void {
    if (res.code === 'SUCCESS') host.ctx.print(`repair: done in ${elapsed(host, this.startedAt)} ms (from the manager's notice to its SUCCESS)`);
    host.finish(this);
  }

  override onFailed(host: Host, why: string): void {
    host.abort(`repair: ${why}`);
  }
}

/** The ring without the dead peer, in ring order, starting at this peer (its new leader). */
export function survivorsFrom(ring: Ring, dead: string, self: string): Tuple[] {
  const alive = ring.peers.filter((p) => p.name !== dead);
  const at = alive.findIndex((p) => p.name === self);
  assert(at >= 0, 'the repairer is in its own ring');
  return [...alive.slice(at), ...alive.slice(0, at)];
}

/** Why a repair notice cannot be carried out here, or null. */
export function repairProblem(host: Host, dht: number, dead: string): string | null {
  const s = host.state;
  if (s.kind !== 'member') return 'this peer is in no ring';
  if (s.ring.dht !== dht) return `this peer is in DHT ${s.ring.dht}, not ${dht}`;
  if (!s.ring.peers.some((p) => p.name === dead)) return `${dead} is not in this peer's ring`;
  if (s.ring.n < 2) return 'a ring of one has nobody to repair for';
  return null;
}

/** The manager's `repair` notice: drop whatever this peer was doing (a typed request the manager now answers BUSY) and repair. */
export function onRepairNotice(host: Host, dht: number, dead: string): void {
  const why = repairProblem(host, dht, dead);
  if (why !== null) return host.ctx.print(`repair: not done: ${why}; the manager will give up waiting and free the peers`);
  const op = host.op;
  if (op) {
    host.ctx.print(`repair: ${op.kind} abandoned: the DHT is being repaired`);
    host.finish(op);
  }
  const { ring } = host.member();
  host.start(new RepairOp(dead, tupleOf(host.self()), ring.year, host.ctx.now));
}
