// Several messages in one datagram (PROTOCOL §2.6). A process that sends more than one message to
// the same address in one event-loop turn (the manager answering a querier's burst of `cmd`s, a
// querier starting several queries, acks) joins their JSON objects with newlines, as NDJSON: one
// datagram, one wake-up and one receive path for the receiver instead of several. Every line is
// still one whole protocol message, decoded and schema-checked on its own (codec.ts), then traced,
// acked and de-duplicated like a message that came alone. `store` (a header line and record lines)
// and `frag` datagrams are never packed, so the three forms cannot be confused: a datagram that
// starts with `{"t":"store",` is a store frame; any other datagram holding a newline is a pack.
import { decode, HARD_MAX_PAYLOAD, type Decoded } from './codec.js';
import type { Datagram } from './messages.js';

/** One line of a pack: its message (or why it was refused) and its bytes, the message's encoding. */
export type Unpacked = Decoded & { bytes: Buffer };

/** Most messages in one datagram; a datagram with more is refused whole. */
export const MAX_PACKED = 32;

const NEWLINE = 0x0a;
const STORE_HEADER = Buffer.from('{"t":"store",');

/** A message that may share a datagram: any but `store` (its own framed form) and `frag`. */
export function packable(t: Datagram['t']): boolean {
  return t !== 'store' && t !== 'frag';
}

/** The one datagram that carries these messages' encodings (each one JSON object, no newline). */
export function pack(parts: readonly Buffer[]): Buffer {
  if (parts.length === 1) return parts[0]!;
  const list: Buffer[] = [];
  for (const p of parts) {
    if (list.length > 0) list.push(NL);
    list.push(p);
  }
  return Buffer.concat(list);
}
const NL = Buffer.from('\n');

/**
 * Whether a received datagram is a pack: it holds a newline and is not a store frame. Messages
 * are written by JSON.stringify, which never breaks a line, so a single message has no newline.
 */
export function isPack(bytes: Uint8Array): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.indexOf(NEWLINE) < 0) return false;
  // Shorter than a store header: no store frame (and compare() would throw past the end).
  if (buf.length < STORE_HEADER.length) return true;
  return buf.compare(STORE_HEADER, 0, STORE_HEADER.length, 0, STORE_HEADER.length) !== 0;
}

/**
 * The messages of a pack, each decoded and checked on its own: a bad line is refused with its
 * reason (`line 2 of 3: …`) and the others still count, as if each had come in its own datagram
 * (a receiver of separate datagrams would take the good ones too). The whole datagram is refused
 * when it is larger than any sender may send, holds more than MAX_PACKED lines, or is not a pack
 * of JSON objects at all (its first line does not parse: e.g. one object written over several
 * lines by some other tool, refused as it was before packs existed).
 */
export function unpack(bytes: Uint8Array): { ok: true; msgs: Unpacked[] } | { ok: false; reason: string } {
  if (bytes.length > HARD_MAX_PAYLOAD) return { ok: false, reason: `oversized datagram (${bytes.length} bytes > ${HARD_MAX_PAYLOAD})` };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const lines: Buffer[] = [];
  let start = 0;
  // A final newline ends the last line; it does not start an empty one.
  while (start < buf.length) {
    let nl = buf.indexOf(NEWLINE, start);
    if (nl < 0) nl = buf.length;
    if (lines.length === MAX_PACKED) return { ok: false, reason: `more than ${MAX_PACKED} messages in one datagram` };
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  const msgs: Unpacked[] = [];
  for (let i = 0; i < lines.length; i++) {
    const bytes = lines[i]!;
    const d = decode(bytes, HARD_MAX_PAYLOAD);
    const where = `line ${i + 1} of ${lines.length}`;
    if (!d.ok) {
      if (i === 0 && d.reason === 'not JSON') return { ok: false, reason: 'not JSON' };
      msgs.push({ ok: false, reason: `${where}: ${d.reason}`, bytes });
    } else if (!packable(d.msg.t)) {
      msgs.push({ ok: false, reason: `${where}: a ${d.msg.t} is never packed with other messages`, bytes });
    } else msgs.push({ ok: true, msg: d.msg as Exclude<Datagram, { t: 'frag' }>, bytes });
  }
  return { ok: true, msgs };
}
