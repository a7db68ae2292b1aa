// The leader's side of a join (our design, SPEC §3.6): tear the tables down, renumber the ring
// with the joiner at the end (reset-id), load the year's file, rebuild, and tell the joiner
// (rebuild-done). The join datagram is acknowledged at once: the slow load comes later.
import type { LineDataset } from '../data/record.js';
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { distribute, rebuildDone, rebuildFailed, rebuildRecords } from './distribution.js';
import type { Host } from './operation.js';
import { peerAt, tupleOf } from './state.js';
import type { StoreStream } from './store.js';
import { sendTeardown } from './teardown.js';

export class AdmitOp {
  readonly kind = 'admit';
  phase: 'tearing-down' | 'renumbering' | 'loading' | 'distributing' = 'tearing-down';
  stream: StoreStream | null = null;

  constructor(readonly joiner: Tuple, readonly year: number) {}

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
    host.ctx.sendPeer(peerAt(next, 1), { t: 'reset-id', sec: next.sec, origin: tupleOf(host.self()), id: 1, n: next.n, peers, year: next.year, s: next.s, epoch: next.epoch, dht: next.dht }, this);
  }

  onResetReturned(host: Host): void {
    assert(this.phase === 'renumbering', 'reset-id returns after renumbering');
    host.ctx.print(`join: renumbered with ${this.joiner.name}; rebuilding`);
    this.phase = 'loading';
    host.ctx.emit({ kind: 'load', year: this.year });
  }

  onLoaded(host: Host, data: LineDataset | string): void {
    const records = rebuildRecords(host.member().ring, data);
    if (typeof records === 'string') return this.onFailed(host, records);
    this.phase = 'distributing';
    distribute(host, this, records, 'rebuild');
  }

  onDistributed(host: Host, counts: number[]): void {
    this.stream = null;
    rebuildDone(host, this.joiner, counts);
    host.finish(this);
  }

  /** Whatever broke, the joiner hears of it at once and aborts (the manager frees everyone). */
  onFailed(host: Host, why: string): void {
    rebuildFailed(host, this.joiner, why);
    host.finish(this);
  }
}
