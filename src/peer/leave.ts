// leave-dht by a member (SPEC §3.4): after the manager's SUCCESS, tear the tables down, renumber
// the ring without this peer (reset-id), ask the new leader to rebuild (rebuild-dht), and when it
// answers tell the manager (dht-rebuilt).
import type { Addr } from '../reliable/index.js';
import type { MessageOf, Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { elapsed, type Host, type Res } from './operation.js';
import { plural, tupleOf } from './state.js';
import { sendTeardown } from './teardown.js';
import { acceptRebuildDone } from './join.js';
import { rField } from './replicas.js';

export class LeaveOp {
  readonly kind = 'leave';
  phase: 'requesting' | 'tearing-down' | 'renumbering' | 'rebuilding' | 'reporting' = 'requesting';
  /** The old right neighbour, leader of the renumbered ring. */
  newLeader: Tuple | null = null;
  /** The DHT's secret, kept after this peer leaves the ring (rebuild-dht and rebuild-done carry it). */
  sec: string | null = null;

  constructor(private readonly args: string[], readonly startedAt: number) {}

  start(host: Host): void {
    host.request('leave-dht', this.args);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS') return host.finish(this);
    if (host.state.kind !== 'member') return host.abort('leave-dht: this peer holds no ring');
    this.sec = host.state.ring.sec;
    this.phase = 'tearing-down';
    sendTeardown(host, false, this, `the DHT is being rebuilt (leave of ${host.self().name})`);
  }

  onTeardownReturned(host: Host): void {
    const { ring } = host.member();
    const others = [...ring.peers.slice(ring.id + 1), ...ring.peers.slice(0, ring.id)];
    const first = others[0];
    assert(first !== undefined, 'a ring of one is torn down, never left');
    this.phase = 'renumbering';
    this.newLeader = first;
    host.ctx.print(`leave: renumbering ${plural(others.length, 'node')}; ${first.name} becomes the leader`);
    host.ctx.sendPeer(first, { t: 'reset-id', sec: ring.sec, origin: tupleOf(host.self()), id: 0, n: others.length, peers: others, year: ring.year, s: ring.s, epoch: host.ctx.newEpoch(), dht: ring.dht, ...rField(ring) }, this);
  }

  onResetReturned(host: Host): void {
    const newLeader = this.newLeader;
    assert(newLeader !== null && this.phase === 'renumbering', 'reset-id returns after renumbering');
    const { year, sec } = host.member().ring;
    host.leaveRing();
    this.phase = 'rebuilding';
    host.ctx.print(`leave: renumbered; asking ${newLeader.name} to rebuild the DHT`);
    host.ctx.sendPeer(newLeader, { t: 'rebuild-dht', sec, year, origin: tupleOf(host.self()) }, this);
  }

  onRebuildDone(host: Host, from: Addr, m: MessageOf<'rebuild-done'>): string | null {
    if (this.phase !== 'renumbering' && this.phase !== 'rebuilding') return 'this peer is not waiting for a rebuild';
    const why = acceptRebuildDone(host, this.newLeader, from, m, 'leave');
    if (why === null && m.ok) this.phase = 'reporting';
    return why;
  }

  onCompleted(host: Host, res: Res): void {
    if (res.code === 'SUCCESS') host.ctx.print(`leave-dht: done in ${elapsed(host, this.startedAt)} ms (from the request to the manager's SUCCESS)`);
    host.finish(this);
  }

  onFailed(host: Host, why: string): void {
    host.abort(`leave: ${why}`);
  }
}
