// rebuild-dht at the new leader after a leave (SPEC §3.4 step 3): acknowledged at once, then the
// year's file is loaded and the records distributed over the renumbered ring; the peer that left
// hears rebuild-done (ok or not) and tells the manager.
import type { LineDataset } from '../data/record.js';
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { distribute, rebuildDone, rebuildFailed, rebuildRecords } from './distribution.js';
import type { Host } from './operation.js';
import type { StoreStream } from './store.js';

export class RebuildOp {
  readonly kind = 'rebuild';
  phase: 'loading' | 'distributing' = 'loading';
  stream: StoreStream | null = null;

  constructor(readonly notify: Tuple, readonly year: number) {}

  start(host: Host): void {
    host.ctx.print(`rebuild-dht: rebuilding the DHT for ${this.notify.name}'s leave`);
    host.ctx.emit({ kind: 'load', year: this.year });
  }

  onLoaded(host: Host, data: LineDataset | string): void {
    assert(this.phase === 'loading', 'loaded while loading');
    const records = rebuildRecords(host.member().ring, data);
    if (typeof records === 'string') return this.onFailed(host, records);
    this.phase = 'distributing';
    distribute(host, this, records, 'rebuild');
  }

  onDistributed(host: Host, counts: number[]): void {
    this.stream = null;
    rebuildDone(host, this.notify, counts);
    host.finish(this);
  }

  onFailed(host: Host, why: string): void {
    rebuildFailed(host, this.notify, why);
    host.finish(this);
  }
}
