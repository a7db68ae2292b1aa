// The outbound store stream of one node toward its right neighbour: records queued in order,
// cut into batches that fit one datagram, with at most `window` batches unacknowledged, and the
// store-end marker released only after every batch before it is acknowledged. That last rule is
// what lets store-end prove, hop by hop, that every record ahead of it has reached its node.
import type { StormRecord } from '../data/record.js';

/** Bytes of a store datagram besides its records: {"t":"store","rid":…,"epoch":…,"recs":[…]}. */
const ENVELOPE_BYTES = 80;

export type Outgoing = { t: 'store'; recs: StormRecord[] } | { t: 'store-end'; counts: number[] };

interface End { end: number[] }

export class Pipeline {
  private items: (StormRecord | End)[] = [];
  private head = 0;
  inflight = 0;
  batchesSent = 0;
  recordsSent = 0;
  oversized = 0;

  constructor(private readonly window: number, private readonly maxPayload: number) {}

  push(rec: StormRecord): void {
    this.items.push(rec);
  }

  pushEnd(counts: number[]): void {
    this.items.push({ end: counts });
  }

  get queued(): number {
    return this.items.length - this.head;
  }

  /** The messages that may go now; the caller sends them and calls acked() for each ack. */
  take(): Outgoing[] {
    const out: Outgoing[] = [];
    while (this.inflight < this.window && this.head < this.items.length) {
      const first = this.items[this.head]!;
      if (isEnd(first)) {
        if (this.inflight > 0 || out.length > 0) break;
        this.head += 1;
        out.push({ t: 'store-end', counts: first.end });
        this.inflight += 1;
        break;
      }
      out.push({ t: 'store', recs: this.cutBatch() });
      this.inflight += 1;
    }
    this.compact();
    return out;
  }

  acked(): void {
    this.inflight -= 1;
  }

  private cutBatch(): StormRecord[] {
    const budget = this.maxPayload - ENVELOPE_BYTES;
    const recs: StormRecord[] = [];
    let bytes = 0;
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (isEnd(item)) break;
      const size = jsonBytes(item) + 1;
      if (recs.length > 0 && bytes + size > budget) break;
      // A single record larger than the budget still travels, alone, rather than being lost.
      if (recs.length === 0 && size > budget) this.oversized += 1;
      recs.push(item);
      bytes += size;
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
      this.head = 0;
    }
  }
}

function isEnd(item: StormRecord | End): item is End {
  return !Array.isArray(item);
}

/** UTF-8 size of a record's JSON; the common all-ASCII case is counted without encoding. */
export function jsonBytes(rec: StormRecord): number {
  let n = 2 + rec.length - 1;
  for (const f of rec) {
    n += 2 + f.length;
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return Buffer.byteLength(JSON.stringify(rec));
    }
  }
  return n;
}
