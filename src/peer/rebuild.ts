// A leader's rebuild of a renumbered ring from the year's file: load it, distribute the records,
// then tell the peer whose leave or join it was (`notify`) with rebuild-done, ok or not; that
// peer tells the manager. RebuildOp is rebuild-dht at the new leader after a leave (SPEC §3.4
// step 3): acknowledged at once, the slow load comes later. AdmitOp (admit.ts) does the same
// after its own teardown and renumbering for a joiner.
import type { LineDataset } from '../data/record.js';
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { distribute, rebuildDone, rebuildFailed, rebuildRecords } from './distribution.js';
import type { Host, Operation } from './operation.js';
import type { StoreStream } from './store.js';

/** The loading and distributing phases every rebuild ends with; `P`: the phases before them. */
export abstract class FileRebuild<P extends string> {
  abstract phase: P | 'loading' | 'distributing';
  stream: StoreStream | null = null;

  constructor(readonly notify: Tuple, readonly year: number) {}

  /** This rebuild as the operation it is (RebuildOp or AdmitOp, both in the Operation union). */
  private op(): Operation {
    return this as unknown as Operation;
  }

  protected load(host: Host): void {
    this.phase = 'loading';
    host.ctx.emit({ kind: 'load', year: this.year });
  }

  onLoaded(host: Host, data: LineDataset | string): void {
    assert(this.phase === 'loading', 'loaded while loading');
    const records = rebuildRecords(host.member().ring, data);
    if (typeof records === 'string') return this.onFailed(host, records);
    this.phase = 'distributing';
    distribute(host, this, records, 'rebuild');
  }

  onDistributed(host: Host, counts: number[], replicas?: number[]): void {
    this.stream = null;
    rebuildDone(host, this.notify, counts, replicas);
    host.finish(this.op());
  }

  /** Whatever broke, the peer whose leave or join it was hears of it at once and aborts. */
  onFailed(host: Host, why: string): void {
    rebuildFailed(host, this.notify, why);
    host.finish(this.op());
  }
}

export class RebuildOp extends FileRebuild<never> {
  readonly kind = 'rebuild';
  phase: 'loading' | 'distributing' = 'loading';

  start(host: Host): void {
    host.ctx.print(`rebuild-dht: rebuilding the DHT for ${this.notify.name}'s leave`);
    this.load(host);
  }
}
