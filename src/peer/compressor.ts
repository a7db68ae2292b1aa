// The leader's compressed store batches (`dht-peer --compress`, protocol/zframe.ts). A batch must
// fit one datagram once compressed, and its compressed size is known only after compressing it.
// So the records of each destination wait here as they were gathered (the dataset's own strings),
// and a batch is cut, framed and deflated only when the window lets it go (as the pipeline does
// uncompressed: the leader never holds the whole distribution as batch strings): as many lines as
// the budget times the ratio seen so far (with a margin), compressed again with fewer lines in the
// rare case the result does not fit. Destinations take turns, so batches for every node are
// interleaved as they are when cut in file order, and every node of the ring has work early.
import { deflateFrame } from '../protocol/zframe.js';
import { MAX_FRAME } from '../protocol/limits.js';

/** The first batch's guess of the ratio: below every year's (×5.4 at 1,400-byte batches and up). */
const FIRST_RATIO = 3;
/** A batch aims at this share of the budget at the ratio seen so far, so few need compressing twice. */
const MARGIN = 0.9;
/**
 * A destination's first batch holds at most this many characters of records (~350 of 1996's)
 * rather than a full ~280 KB (~4,400): a node's first frame of its own is handled by code that
 * has not run yet in that process (zlib, the frame check, the table), which took ~15 ms for a full
 * frame, during which the node forwarded nothing and acked nothing, so the whole stream stood
 * still behind it. A small first frame takes a few ms and warms that code up for the next.
 * Alternated cold keyed setups (docs/BENCHMARKS.md, "Keyed mode, seventh round"): ×0.90–0.99.
 */
export const FIRST_FRAME = 24_000;
/**
 * Only the first nodes after the cutting one get a small first frame: a stall at node k holds up
 * the batches for every node after it, so the nearest matter most, and the extra batch for node k
 * crosses k hops (every node's would cost ~n²/2 batch-hops more in a large ring).
 */
export const FIRST_FRAME_NODES = 4;

interface Queue { to: number; lines: string[]; next: number }

export class Compressor {
  /** The store header's `,"z":…,"n":…` (a 6-digit size, a 6-digit count) beside the uncompressed envelope. */
  static readonly HEADER_BYTES = 24;
  private readonly queues: Queue[] = [];
  private turn = 0;
  /** Uncompressed ÷ compressed bytes, smoothed over the batches so far. */
  private ratio = FIRST_RATIO;
  private seen = false;
  /** Whether a full batch (not a small first one) has taught the ratio. */
  private seenFull = false;
  /** Batches compressed a second time because the first result did not fit (rare: see MARGIN). */
  recompressed = 0;
  rawBytes = 0;
  wireBytes = 0;
  /** The next batch, compressed ahead (prepare()) while the window was full. */
  private ready: { to: number; recs: string; count: number; z: number } | null = null;

  /** The lines (framed: data/line.ts) of one destination, in the order gathered. */
  add(to: number, lines: string[]): void {
    this.queues.push({ to, lines, next: 0 });
  }

  get pending(): boolean {
    return this.ready !== null || this.queues.length > 0;
  }

  /** Whether prepare() has anything to do. */
  get preparable(): boolean {
    return this.ready === null && this.queues.length > 0;
  }

  /** Compress the next batch now, so that next() has it ready when the window frees a slot. */
  prepare(budget: number): void {
    if (this.preparable) this.ready = this.cut(budget);
  }

  /** The next batch, its compressed body at most `budget` bytes (unless one record alone exceeds it); null when all are sent. */
  next(budget: number): { to: number; recs: string; count: number; z: number } | null {
    const ready = this.ready;
    if (ready !== null) {
      this.ready = null;
      return ready;
    }
    return this.queues.length === 0 ? null : this.cut(budget);
  }

  private cut(budget: number): { to: number; recs: string; count: number; z: number } {
    this.turn %= this.queues.length;
    const q = this.queues[this.turn]!;
    const full = Math.min(MAX_FRAME, Math.max(1, Math.floor(budget * this.ratio * MARGIN)));
    const first = q.next === 0 && full > FIRST_FRAME && q.to % 256 <= FIRST_FRAME_NODES;
    const target = first ? FIRST_FRAME : full;
    let end = q.next;
    let bytes = 0;
    // At least one line; then as many as the target holds (each line's separator counted). In
    // characters, not UTF-8 bytes: the same for the ASCII of nearly every record, and the target is
    // an estimate anyway (a batch that does not fit once compressed is cut again below); counting
    // bytes line by line was ~7 ms of a leader's 1996 setup, more than a fifth of its compression.
    do {
      bytes += q.lines[end]!.length + 1;
      end += 1;
    } while (end < q.lines.length && bytes + q.lines[end]!.length + 1 <= target);
    let frame = q.lines.slice(q.next, end).join('\n');
    let d = deflateFrame(frame);
    // Bounded: each pass takes fewer lines, and one line is sent whatever its size. A frame of
    // many multi-byte characters may also exceed MAX_FRAME in bytes though not in characters.
    while ((d.body.length > budget || d.z > MAX_FRAME) && end - q.next > 1) {
      this.recompressed += 1;
      const shrink = Math.min((budget * MARGIN) / d.body.length, (MAX_FRAME * MARGIN) / d.z);
      end = q.next + Math.max(1, Math.floor((end - q.next) * shrink));
      frame = q.lines.slice(q.next, end).join('\n');
      d = deflateFrame(frame);
    }
    const count = end - q.next;
    // A small first frame compresses less well than a full one would: it does not teach the ratio
    // once a full one has (else every next batch would be cut smaller). The ratio is learnt in
    // the unit the cut counts (characters), so records of multi-byte characters are not cut too
    // large and compressed twice.
    if (!first || !this.seenFull) {
      const r = frame.length / d.body.length;
      this.ratio = this.seen ? 0.5 * this.ratio + 0.5 * r : r;
      this.seen = true;
      if (!first) this.seenFull = true;
    }
    this.rawBytes += d.z;
    this.wireBytes += d.body.length;
    if (end >= q.lines.length) {
      this.queues.splice(this.turn, 1); // the next queue takes this one's turn
    } else {
      q.next = end;
      this.turn += 1;
    }
    return { to: q.to, recs: d.body, count, z: d.z };
  }
}
