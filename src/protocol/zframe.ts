// Compressed store frames (`dht-peer --compress`, PROTOCOL §4.6): the node that cuts a batch
// deflates its frame once, the nodes between pass the bytes on as they came, and the batch's node
// inflates them. Why: in keyed mode every datagram costs a seal and an open (100–400 µs each in a
// peer), whatever its size; the record lines deflate ×5 or more, so a batch of the same datagram
// size carries five times the records, and the ring sends about a fifth of the store datagrams and
// their acks (docs/BENCHMARKS.md, sixth keyed round).
//
// node:zlib's sync calls are plain computation on buffers (no I/O, no event loop), so the pure
// cores may call them; this module is the one place that does. The body travels inside a Message
// as a latin1 string (one character per byte): cheap to turn into bytes and back, and every
// message stays JSON-serialisable for the event log and the simulation.
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { FRAME_PATTERN, MAX_FRAME } from './limits.js';
import { frameCount } from '../data/line.js';

/**
 * deflate level 1: measured against 6 and 9 on the 1996 record lines (BENCHMARKS, sixth keyed
 * round): ×5.4 against ×6.3 at 6, at three to four times the speed; the leader compresses every
 * batch of the setup, so its time is on the setup's critical path.
 */
export const DEFLATE_LEVEL = 1;

/** A frame deflated: the body (latin1, one character per byte) and the frame's UTF-8 size. */
export interface Deflated { body: string; z: number }

export function deflateFrame(frame: string, level = DEFLATE_LEVEL): Deflated {
  const raw = Buffer.from(frame, 'utf8');
  return { body: deflateRawSync(raw, { level, strategy: constants.Z_DEFAULT_STRATEGY }).toString('latin1'), z: raw.length };
}

const FRAME = new RegExp(FRAME_PATTERN);
/**
 * The frame is checked in pieces of about this many characters, cut after a line. V8 runs a regular
 * expression's first executions in its bytecode interpreter (it compiles it after that): a node
 * inflates only one or two frames per setup, and checking a 300 KB frame whole took ~13 ms in a
 * fresh process against ~2 ms in pieces (the next frames: ~1 ms either way).
 */
const PIECE = 16_384;

/** Whether `frame` matches FRAME_PATTERN: no record line holds a '\n', so each piece between two must. */
export function isFrame(frame: string): boolean {
  if (frame.length <= PIECE) return FRAME.test(frame);
  // A frame ends with a line, never with its separator (a piece cut just before a final '\n' would hide it).
  if (frame.charCodeAt(frame.length - 1) === 0x0a) return false;
  let start = 0;
  // Bounded: each pass moves past at least PIECE characters.
  while (start < frame.length) {
    const cut = start + PIECE >= frame.length ? -1 : frame.indexOf('\n', start + PIECE);
    const end = cut < 0 ? frame.length : cut;
    // A piece is never empty (it holds PIECE characters or the rest), so an empty line cannot hide between two.
    if (!FRAME.test(frame.slice(start, end))) return false;
    start = end + 1;
  }
  return true;
}

/**
 * Why a compressed batch's header cannot be true, or null; checked by every node, before passing
 * the batch on unread: the shortest record line is 2 characters ("0,"), so n lines take at least
 * 3n − 1 bytes. So `n` claims no more records than an uncompressed frame of `z` bytes could hold,
 * and the bound on the records a stream queues holds for compressed batches too.
 */
export function implausible(z: number, n: number): string | null {
  return 3 * n - 1 > z ? `a compressed frame of ${z} bytes cannot hold ${n} records` : null;
}

/**
 * The frame of a compressed batch, or why it is refused. Memory is bounded by the declared size
 * (`maxOutputLength`), itself at most MAX_FRAME by the schema: a deflate bomb stops there. The
 * inflated text then passes the same check as an uncompressed frame (the schema's pattern) and
 * must hold `n` records, so nothing of a bad frame is ever stored.
 */
export function inflateFrame(body: string, z: number, n: number): { frame: string } | { error: string } {
  if (z > MAX_FRAME) return { error: `a compressed frame of ${z} bytes (limit ${MAX_FRAME})` };
  let out: Buffer;
  try {
    out = inflateRawSync(Buffer.from(body, 'latin1'), { maxOutputLength: z });
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { error: code === 'ERR_BUFFER_TOO_LARGE' ? `a compressed frame inflates beyond its declared ${z} bytes` : 'a compressed frame that does not inflate' };
  }
  if (out.length !== z) return { error: `a compressed frame inflates to ${out.length} bytes, not its declared ${z}` };
  const frame = out.toString('utf8');
  if (!isFrame(frame)) return { error: 'a compressed frame whose records are not record lines' };
  const count = frameCount(frame);
  if (count !== n) return { error: `a compressed frame of ${count} records, not its declared ${n}` };
  return { frame };
}
