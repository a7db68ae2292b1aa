// The leader's side of a join (our design, SPEC §3.6): tear the tables down, renumber the ring
// with the joiner at the end (reset-id), load the year's file, rebuild, and tell the joiner
// (rebuild-done). The join datagram is acknowledged at once: the slow load comes later.
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { FileRebuild } from './rebuild.js';
import type { Host } from './operation.js';
import { peerAt, tupleOf } from './state.js';
import { sendTeardown } from './teardown.js';
import { rField } from './replicas.js';

export class AdmitOp extends FileRebuild<'tearing-down' | 'renumbering'> {
  readonly kind = 'admit';
  phase: 'tearing-down' | 'renumbering' | 'loading' | 'distributing' = 'tearing-down';

  /** The joiner: the peer this rebuild is for. */
  get joiner(): Tuple {
    return this.notify;
  }

  start(host: Host): void {
    host.ctx.remember([this.joiner]);
    host.ctx.print(`join: admitting ${this.joiner.name}; tearing down the tables first`);
    sendTeardown(host, false, this, `the DHT is being rebuilt (join of ${this.joiner.name})`);
  }

  onTeardownReturned(host: Host): void {
    const { ring } = host.member();
    const peers = [...ring.peers, this.joiner];
    const next = host.enterRing({ ...ring, n: peers.length, peers, epoch: host.ctx.newEpoch() }, null, `the DHT is being rebuilt (join of ${this.joiner.name})`).ring;
    this.phase = 'renumbering';
    host.ctx.sendPeer(peerAt(next, 1), { t: 'reset-id', sec: next.sec, origin: tupleOf(host.self()), id: 1, n: next.n, peers, year: next.year, s: next.s, epoch: next.epoch, dht: next.dht, ...rField(next) }, this);
  }

  onResetReturned(host: Host): void {
    assert(this.phase === 'renumbering', 'reset-id returns after renumbering');
    host.ctx.print(`join: renumbered with ${this.joiner.name}; rebuilding`);
    this.load(host);
  }
}
