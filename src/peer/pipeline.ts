// The outbound store stream of one node toward its right neighbour: records queued in order,
// cut into batches that fit one datagram, with at most `window` batches unacknowledged, and the
// store-end marker released only after every batch before it is acknowledged. That last rule is
// what lets store-end prove, hop by hop, that every record ahead of it has reached its node.
import { jsonStringBytes } from '../data/line.js';

/** Bytes of a store datagram besides its records: {"t":"store","rid":…,"epoch":…,"recs":[…]}. */
const ENVELOPE_BYTES = 80;

export type Outgoing = { t: 'store'; recs: string[] } | { t: 'store-end'; counts: number[] };

interface End { end: number[] }

export class Pipeline {
  private items: (string | End)[] = [];
  private sizes: number[] = [];
  private head = 0;
  /** Bytes of the records queued and not yet cut into batches. */
  private queuedBytes = 0;
  private endQueued = false;
  inflight = 0;
  batchesSent = 0;
  recordsSent = 0;
  oversized = 0;

  constructor(private readonly window: number, private readonly maxPayload: number) {}

  private get budget(): number {
    return this.maxPayload - ENVELOPE_BYTES;
  }

  push(line: string): void {
    const size = jsonStringBytes(line) + 1;
    this.items.push(line);
    this.sizes.push(size);
    this.queuedBytes += size;
  }

  pushEnd(counts: number[]): void {
    this.items.push({ end: counts });
    this.sizes.push(0);
    this.endQueued = true;
  }

  get queued(): number {
    return this.items.length - this.head;
  }

  /**
   * The messages that may go now; the caller sends them and calls acked() for each ack.
   * A batch that is not full waits while others are in flight (as Nagle's algorithm does), so
   * a node that forwards part of each batch it receives still sends full batches.
   */
  take(): Outgoing[] {
    const out: Outgoing[] = [];
    while (this.inflight < this.window && this.head < this.items.length) {
      const first = this.items[this.head];
      if (isEnd(first)) {
        if (this.inflight > 0 || out.length > 0) break;
        this.head += 1;
        this.endQueued = false;
        out.push({ t: 'store-end', counts: first.end });
        this.inflight += 1;
        break;
      }
      if (this.queuedBytes < this.budget && !this.endQueued && this.inflight > 0) break;
      out.push({ t: 'store', recs: this.cutBatch() });
      this.inflight += 1;
    }
    this.compact();
    return out;
  }

  acked(): void {
    this.inflight -= 1;
  }

  private cutBatch(): string[] {
    const recs: string[] = [];
    let bytes = 0;
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (isEnd(item)) break;
      const size = this.sizes[this.head];
      if (recs.length > 0 && bytes + size > this.budget) break;
      // A single record larger than the budget still travels, alone, rather than being lost.
      if (recs.length === 0 && size > this.budget) this.oversized += 1;
      recs.push(item);
      bytes += size;
      this.queuedBytes -= size;
      this.head += 1;
    }
    this.batchesSent += 1;
    this.recordsSent += recs.length;
    return recs;
  }

  /** Drop consumed items now and then so a long stream does not hold every record twice. */
  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}

function isEnd(item: string | End): item is End {
  return typeof item !== 'string';
}
