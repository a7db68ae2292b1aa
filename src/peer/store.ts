// One node's store stream toward its right neighbour (SPEC §3.1 step 2): the records of a store
// batch (or, at the leader, of the whole file) are split into those this node keeps and those it
// passes on, and the passed-on ones travel through a flow-controlled Pipeline. The leader's stream
// belongs to its setup, admit or rebuild operation; a member's belongs to its ring state.
// With replication (replicas.ts) the leader also sends each record, as a copy, to the next r − 1
// nodes after its own: batches marked `of` (the owner), travelling the same lap as every batch.
import { eventIdOfLine, forEachFrameLine, frameCount } from '../data/line.js';
import { nodeOf, positionOf } from '../data/hash.js';
import { assert } from '../runtime/assert.js';
import { sentence, type PeerContext } from './context.js';
import type { Host } from './operation.js';
import { Pipeline } from './pipeline.js';
import { plural, rightOf, type Ring } from './state.js';
import type { LocalTable } from './table.js';
import { holdsReplicaOf, replicationOf } from './replicas.js';
import { implausible, inflateFrame } from '../protocol/zframe.js';
import type { MessageOf } from '../protocol/messages.js';

/** Records one stream may hold queued: far above the largest year (~60,000 records). */
const MAX_QUEUED_RECORDS = 5_000_000;

/**
 * The pipeline (pipeline.ts) gathers and cuts batches by one number: a node id for a node's own
 * records, and above 255 for copies (the owner's id + 1 in the high byte), so copies never share a
 * batch with own records and the pipeline needs to know nothing about replicas.
 */
function destination(to: number, of: number | undefined): number {
  return of === undefined ? to : (of + 1) * 256 + to;
}
function fromDestination(dest: number): { to: number; of?: number } {
  return dest < 256 ? { to: dest } : { to: dest % 256, of: Math.floor(dest / 256) - 1 };
}

export class StoreStream {
  private readonly pipe: Pipeline;
  /** Records that arrived in store batches (zero at the leader, which reads them from the file). */
  received = 0;
  batches = 0;
  kept = 0;
  queued = 0;
  /** Records for a node left of this one: a sender's bug, counted and dropped. */
  misrouted = 0;
  /** Copies of other nodes' records kept here (replicas.ts). */
  replicated = 0;
  /** store-end's replica counts, when the ring keeps replicas. */
  private replicaCounts: number[] | undefined;

  constructor(ctx: PeerContext, readonly epoch: number) {
    this.pipe = new Pipeline(ctx.config.window, ctx.config.maxPayload, ctx.config.local, ctx.config.compress === true);
  }

  /**
   * A store batch from the left neighbour: kept here if it is addressed to this node, else passed
   * on as it came (its records are not looked at). A record that does not hash to this node is
   * a sender's bug: counted and dropped, like a batch for a node left of this one. A compressed
   * batch is inflated only here, at its node; one that does not inflate to the record lines its
   * header promises is refused whole (why, for the caller's complaint): nothing of it is kept,
   * and, unacknowledged, its sender's stream fails as if the batch could not be delivered.
   */
  receive(ring: Ring, table: LocalTable, batch: MessageOf<'store'>): string | null {
    let recs = batch.recs;
    const why = 'z' in batch ? implausible(batch.z, batch.n) : null;
    if (why !== null) return why;
    if ('z' in batch && batch.to === ring.id) {
      const inflated = inflateFrame(batch.recs, batch.z, batch.n);
      if ('error' in inflated) return inflated.error;
      recs = inflated.frame;
    }
    this.batches += 1;
    if (batch.to === ring.id && batch.of !== undefined) {
      this.keepCopies(ring, table, batch.of, recs);
    } else if (batch.to === ring.id) {
      let count = 0;
      forEachFrameLine(recs, (rec) => {
        count += 1;
        const pos = positionOf(eventIdOfLine(rec), ring.s);
        if (nodeOf(pos, ring.n) === ring.id) {
          table.add(pos, rec);
          this.kept += 1;
        } else {
          this.misrouted += 1;
        }
      });
      this.received += count;
    } else {
      // A compressed batch is passed on as it came: its header says how many records it holds.
      const count = 'z' in batch ? batch.n : frameCount(batch.recs);
      this.received += count;
      if (batch.to > ring.id && batch.to < ring.n) {
        this.pipe.pushBatch({ to: destination(batch.to, batch.of), recs: batch.recs, count, ...('z' in batch ? { z: batch.z } : {}) });
        this.queued += count;
      } else {
        this.misrouted += count;
      }
    }
    assert(this.pipe.queued <= MAX_QUEUED_RECORDS, `store stream holds ${this.pipe.queued} records`);
    assert(this.kept + this.replicated + this.queued + this.misrouted === this.received, 'kept + forwarded = received');
    return null;
  }

  /** Copies of node `owner`'s records, kept only if this node is one of its holders and each record is `owner`'s. */
  private keepCopies(ring: Ring, table: LocalTable, owner: number, recs: string): void {
    // A copy table is made only for a node whose copies this node keeps (a forged `of` makes none).
    const copies = owner < ring.n && holdsReplicaOf(ring, ring.id, owner) ? table.replica(owner) : null;
    forEachFrameLine(recs, (rec) => {
      this.received += 1;
      const pos = positionOf(eventIdOfLine(rec), ring.s);
      if (copies !== null && nodeOf(pos, ring.n) === owner) {
        copies.add(pos, rec);
        this.replicated += 1;
      } else {
        this.misrouted += 1;
      }
    });
  }

  /**
   * The leader's records, read from the file: node 0 keeps its own, every other goes right; and
   * with r > 1 a copy of each to the r − 1 nodes after its own (node 0 keeps the copies it holds).
   */
  route(ring: Ring, table: LocalTable, recs: readonly string[]): void {
    const r = replicationOf(ring);
    this.pipe.over(ring.peers.map((p) => p.ip));
    for (const rec of recs) {
      const pos = positionOf(eventIdOfLine(rec), ring.s);
      const id = nodeOf(pos, ring.n);
      if (id === ring.id) {
        table.add(pos, rec);
        this.kept += 1;
      } else if (id > ring.id) {
        this.pipe.push(id, rec);
        this.queued += 1;
      } else {
        this.misrouted += 1;
      }
      // The holders of copies (replicas.ts), without an array per record: r = 1 costs nothing here.
      for (let j = 1; j < r; j++) {
        const holder = (id + j) % ring.n;
        if (holder === ring.id) {
          table.replica(id).add(pos, rec);
          this.replicated += 1;
        } else {
          this.pipe.push(destination(holder, id), rec);
          this.queued += 1;
        }
      }
    }
    assert(this.pipe.queued <= MAX_QUEUED_RECORDS, `store stream holds ${this.pipe.queued} records`);
  }

  /** Follow the last record with store-end carrying the counts so far and this node's own (and its copies', r > 1). */
  end(counts: number[], replicas?: number[]): void {
    this.replicaCounts = replicas;
    this.pipe.pushEnd(counts);
  }

  acked(): void {
    assert(this.pipe.inflight > 0, 'an ack for a store batch in flight');
    this.pipe.acked();
  }

  /** Send what the window allows; the summary line goes out with store-end. */
  pump(ctx: PeerContext, ring: Ring): void {
    const right = rightOf(ring);
    for (const item of this.pipe.take()) {
      if (item.t === 'store') {
        const { to, of } = fromDestination(item.to);
        const body = { t: 'store', epoch: this.epoch, to, sec: ring.sec, recs: item.recs, ...(of === undefined ? {} : { of }) } as const;
        ctx.sendPeer(right, item.z === undefined ? body : { ...body, z: item.z, n: item.count }, this);
        continue;
      }
      assert(this.pipe.recordsSent === this.queued, 'every queued record went before store-end');
      if (this.pipe.batchesSent > 0 || this.batches > 0) ctx.print(this.summary(right.name));
      const replicas = this.replicaCounts;
      ctx.sendPeer(right, { t: 'store-end', epoch: this.epoch, sec: ring.sec, counts: item.counts, ...(replicas ? { replicas } : {}) }, this);
    }
    // A compressing leader compresses its next batch once these sends are out (PeerContext.defer).
    if (this.pipe.preparable) ctx.defer(() => this.pipe.prepare());
  }

  /** What this node did with the stream: only what happened (a leader received nothing). */
  private summary(right: string): string {
    const parts: string[] = [];
    if (this.batches > 0) parts.push(`received ${plural(this.received, 'record')} in ${batches(this.batches)}`);
    parts.push(`kept ${this.kept}${this.replicated > 0 ? ` (+${plural(this.replicated, 'replica')})` : ''}`);
    if (this.pipe.batchesSent > 0) {
      const z = this.pipe.compressor;
      const ratio = z !== null && z.wireBytes > 0 ? ` (compressed ×${(z.rawBytes / z.wireBytes).toFixed(1)})` : '';
      parts.push(`forwarded ${this.pipe.recordsSent} in ${batches(this.pipe.batchesSent)} to ${right}${ratio}` +
        (this.pipe.oversized > 0 ? ` (${plural(this.pipe.oversized, 'record')} too large for one datagram went alone, in fragments)` : ''));
    }
    return `store: ${parts.join(', ')}`;
  }
}

function batches(count: number): string {
  return `${count} ${count === 1 ? 'batch' : 'batches'}`;
}

/** The stream `owner` if it is still this peer's relay or its leader operation's current stream. */
export function currentStream(host: Host, owner: object | null): StoreStream | null {
  if (!(owner instanceof StoreStream)) return null;
  const relay = host.state.kind === 'member' ? host.state.relay : null;
  const own = host.op && 'stream' in host.op ? host.op.stream : null;
  return owner === relay || owner === own ? owner : null;
}

/**
 * A store stream toward the right neighbour is broken: stop it, and make sure the leader hears
 * of it at once, so the setup or rebuild is aborted now rather than when the manager gives up.
 */
export function onStreamFailed(host: Host, stream: StoreStream, why: string): void {
  host.ctx.drop(stream);
  if (currentStream(host, stream) === null) return; // a stream already abandoned
  const s = host.member();
  if (s.relay === stream) {
    s.relay = null;
    if (s.ring.id !== 0) {
      const leader = s.ring.peers[0];
      assert(leader !== undefined, 'a ring has a leader');
      host.ctx.print(`store: ${why}; telling the leader ${leader.name}`);
      host.ctx.sendPeer(leader, { t: 'store-failed', epoch: s.ring.epoch, sec: s.ring.sec, text: sentence(why) }, null);
      return;
    }
  }
  const op = host.op;
  if (op && 'stream' in op) op.onFailed(host, why);
}
