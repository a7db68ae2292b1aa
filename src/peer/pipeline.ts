// The outbound store stream of one node toward its right neighbour: batches queued in order, each
// addressed to the node that keeps its records, with at most `window` batches unacknowledged, and
// the store-end marker released only after every batch before it is acknowledged. That last rule
// is what lets store-end prove, hop by hop, that every record ahead of it has reached its node.
//
// The leader cuts batches per destination: records for node d gather until a datagram is full
// (compressed, `--compress`: until the window lets a batch go, compressor.ts). A node between the
// leader and d passes the batch on as it came, without looking at its records.
import { frameLine, frameLineBytes } from '../data/line.js';
import type { LocalPath } from '../protocol/wire.js';
import { Compressor } from './compressor.js';

/**
 * Bytes of a store datagram besides its records: {"t":"store","rid":…,"epoch":…,"to":…,"sec":"…"}\n
 * is at most 117 (a 15-digit rid, a 10-digit epoch, a 44-character secret). A batch that left less
 * would be cut into two fragments by the wire: twice the datagrams, a third more bytes.
 */
export const ENVELOPE_BYTES = 128;

/**
 * A batch: its destination node, its records as a frame (data/line.ts) and how many they are;
 * with `z`, a compressed frame (protocol/zframe.ts) of `z` bytes once inflated.
 */
export interface Batch { to: number; recs: string; count: number; z?: number }

/**
 * A batch the leader has cut but not yet framed: its record lines (the dataset's own strings), joined
 * into a frame only when the window lets it go. Framing every batch as it was cut held the whole
 * distribution (all but the leader's share of the file) as batch strings at once, and promoted them
 * to the old generation before they were sent: ~2 MB of a 1996 leader's peak, ~130 MB for 1M records.
 */
interface Cut { to: number; lines: string[]; count: number }

export type Outgoing = { t: 'store'; to: number; recs: string; count: number; z?: number } | { t: 'store-end'; counts: number[] };

interface End { end: number[] }
/** Compressed batches (`--compress`): cut from the gathered records as the window lets them go. */
interface Drain { drain: true }

/** Records for one destination not yet cut into a batch (the leader's). */
interface Gathering { lines: string[]; bytes: number }

export class Pipeline {
  private items: (Batch | Cut | End | Drain | null)[] = [];
  private head = 0;
  private readonly gathering = new Map<number, Gathering>();
  /** Records pushed, in batches or to gather; and records in gathered batches not yet cut. */
  recordsQueued = 0;
  inflight = 0;
  batchesSent = 0;
  recordsSent = 0;
  oversized = 0;

  private window: number;
  private maxPayload: number;

  /** Set when this node compresses the batches it cuts (`dht-peer --compress`). */
  readonly compressor: Compressor | null;

  /**
   * `window` batches of `maxPayload` bytes in flight per hop; with `local`, a leader whose whole
   * ring is on this machine cuts larger batches (over()), keeping the bytes in flight the same.
   * With `compress`, the batches this node cuts are deflated (compressor.ts).
   */
  constructor(window: number, maxPayload: number, private readonly local?: LocalPath, compress = false) {
    this.window = window;
    this.maxPayload = maxPayload;
    this.compressor = compress ? new Compressor() : null;
  }

  /**
   * The leader, before its first record: the ring its batches cross. Batches are passed on as they
   * came, so they are larger only if every hop (every member) is a process of this machine. The
   * window shrinks to keep window × payload (the bytes a hop may have to buffer) what it was: a
   * socket's default receive buffer (~208 KB) holds it.
   */
  over(ips: readonly string[]): void {
    const local = this.local;
    if (!local || local.payload <= this.maxPayload || this.recordsQueued > 0 || !ips.every((ip) => local.isLocal(ip))) return;
    this.window = Math.min(this.window, Math.max(2, Math.floor((this.window * this.maxPayload) / local.payload))); // never above a --window given smaller
    this.maxPayload = local.payload;
  }

  private get budget(): number {
    return this.maxPayload - ENVELOPE_BYTES;
  }

  /** One record for node `to` (the leader): gathered with others for the same node. */
  push(to: number, line: string): void {
    const framed = frameLine(line);
    // Compressed batches are sized when they are cut (compressor.ts): no byte count per line here.
    const size = this.compressor === null ? frameLineBytes(framed) : 0;
    let g = this.gathering.get(to);
    if (!g) {
      g = { lines: [], bytes: 0 };
      this.gathering.set(to, g);
    }
    // Compressed batches are cut only when they go (take()): their size is known once compressed.
    if (this.compressor === null && g.lines.length > 0 && g.bytes + size > this.budget) this.cut(to, g);
    // A single record larger than the budget still travels, alone (in fragments), rather than being lost.
    if (this.compressor === null && size > this.budget) this.oversized += 1;
    g.lines.push(framed);
    g.bytes += size;
    this.recordsQueued += 1;
  }

  /** A batch passed on as it came (a node between the leader and the batch's node). */
  pushBatch(batch: Batch): void {
    if (batch.count === 1 && batch.z === undefined && batch.recs.length * 3 + 1 > this.budget && Buffer.byteLength(batch.recs) + 1 > this.budget) this.oversized += 1;
    this.items.push(batch);
    this.recordsQueued += batch.count;
  }

  /** store-end, behind every batch (the partly filled ones the leader still gathers first). */
  pushEnd(counts: number[]): void {
    const compressor = this.compressor;
    if (compressor !== null) {
      for (const [to, g] of [...this.gathering.entries()].sort((a, b) => a[0] - b[0])) if (g.lines.length > 0) compressor.add(to, g.lines);
      if (compressor.pending) this.items.push({ drain: true });
    } else {
      for (const [to, g] of [...this.gathering.entries()].sort((a, b) => a[0] - b[0])) if (g.lines.length > 0) this.cut(to, g);
    }
    this.gathering.clear();
    this.items.push({ end: counts });
  }

  private cut(to: number, g: Gathering): void {
    this.items.push({ to, lines: g.lines, count: g.lines.length });
    g.lines = [];
    g.bytes = 0;
  }

  /** Records and batches waiting (gathered records included). */
  get queued(): number {
    return this.recordsQueued - this.recordsSent;
  }

  /** The messages that may go now; the caller sends them and calls acked() for each ack. */
  take(): Outgoing[] {
    const out: Outgoing[] = [];
    while (this.inflight < this.window && this.head < this.items.length) {
      const first = this.items[this.head]!;
      if ('drain' in first) {
        const room = this.budget - Compressor.HEADER_BYTES;
        const batch = this.compressor!.next(room);
        if (batch === null) {
          this.head += 1;
          continue;
        }
        if (batch.recs.length > room) this.oversized += 1; // one record that even compressed needs fragments
        out.push({ t: 'store', ...batch });
        this.inflight += 1;
        this.batchesSent += 1;
        this.recordsSent += batch.count;
        continue;
      }
      if (isEnd(first)) {
        if (this.inflight > 0 || out.length > 0) break;
        this.head += 1;
        out.push({ t: 'store-end', counts: first.end });
        this.inflight += 1;
        break;
      }
      // Forgotten once taken (the outbox holds what is in flight), so a sent batch is garbage once acknowledged.
      this.items[this.head] = null;
      this.head += 1;
      out.push('recs' in first ? { t: 'store', to: first.to, recs: first.recs, count: first.count, ...(first.z === undefined ? {} : { z: first.z }) } : { t: 'store', to: first.to, recs: first.lines.join('\n'), count: first.count });
      this.inflight += 1;
      this.batchesSent += 1;
      this.recordsSent += first.count;
    }
    this.compact();
    return out;
  }

  acked(): void {
    this.inflight -= 1;
  }

  /** Whether a compressed batch could be made ready ahead of the window (prepare()). */
  get preparable(): boolean {
    const first = this.items[this.head];
    return this.compressor !== null && this.compressor.preparable && first !== null && first !== undefined && 'drain' in first;
  }

  /** Compress the next batch ahead, while the window is full (compressor.ts). */
  prepare(): void {
    if (this.preparable) this.compressor!.prepare(this.budget - Compressor.HEADER_BYTES);
  }

  /** Drop consumed slots now and then so a long stream's array stays short. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

function isEnd(item: Batch | Cut | End | Drain): item is End {
  return !('to' in item);
}
