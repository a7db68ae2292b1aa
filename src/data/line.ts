// A record on the wire and in a node's table: its 14 fields as one CSV line, in course column
// order. Nodes that only pass a record on need its event id, which is the leading digits; keeping
// the line whole saves parsing and re-encoding 14 strings at every hop. Fields are split again
// only when a query finds the record.
import { COLUMNS, type StormRecord } from './record.js';

const NEEDS_QUOTES = /[",\r\n]/;

export function toLine(rec: StormRecord): string {
  // Common case first: one join, one scan; quoting only if a field needs it.
  const plain = rec.join(',');
  if (!/["\r\n]/.test(plain) && commas(plain) === rec.length - 1) return plain;
  let quoted = false;
  for (const f of rec) if (NEEDS_QUOTES.test(f)) quoted = true;
  if (!quoted) return rec.join(',');
  return rec.map((f) => (NEEDS_QUOTES.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}

function commas(s: string): number {
  let n = 0;
  for (let i = s.indexOf(','); i >= 0; i = s.indexOf(',', i + 1)) n += 1;
  return n;
}

/** The event id at the start of a line; NaN if the line does not start with digits and a comma. */
export function eventIdOfLine(line: string): number {
  let id = 0;
  for (let i = 0; i < 17 && i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 44) return i === 0 ? NaN : id; // ','
    if (c < 48 || c > 57) return NaN;
    id = id * 10 + (c - 48);
  }
  return NaN;
}

/** The fields of a line (RFC 4180 quoting); null unless there are exactly 14. */
export function fromLine(line: string): StormRecord | null {
  const fields: string[] = [];
  let i = 0;
  // Bounded: each pass consumes at least one character or ends the line.
  while (i <= line.length && fields.length <= COLUMNS.length) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null;
        value += line.slice(j, q);
        if (line[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') return null;
      i += 1;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields.length === COLUMNS.length ? fields : null;
}

/** UTF-8 size of a string once JSON-encoded (quotes and escapes included), without encoding it. */
export function jsonStringBytes(s: string): number {
  let n = s.length + 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) n += 1;
    else if (c < 0x20) n += 5;
    else if (c > 0x7f) n += c > 0x7ff ? 2 : 1;
  }
  return n;
}

// ---- store frames: the records of a store batch as the body of its datagram (protocol/codec.ts)
//
// A frame is record lines joined by '\n', each readable as it is in a packet capture. A line
// that itself holds a line break (inside a quoted field: rare, never in the NOAA course columns)
// or a lone surrogate travels as a JSON string literal instead; no record line starts with '"' (it starts with its
// event id), so the two forms cannot be confused.

/** A line break, or a lone surrogate (which UTF-8 cannot carry, and JSON escapes). */
const BREAK = /[\r\n]|\p{Surrogate}/u;

/** The form of one record line inside a frame. */
export function frameLine(line: string): string {
  return BREAK.test(line) ? JSON.stringify(line) : line;
}

/** UTF-8 bytes of a line in a frame, its separator included. */
export function frameLineBytes(framed: string): number {
  return Buffer.byteLength(framed, 'utf8') + 1;
}

/** How many records a frame holds, without splitting it. */
export function frameCount(frame: string): number {
  if (frame.length === 0) return 0;
  let n = 1;
  for (let i = frame.indexOf('\n'); i >= 0; i = frame.indexOf('\n', i + 1)) n += 1;
  return n;
}

/** Each record line of a frame, in order (a frame the schema accepted: protocol/messages.ts). */
export function forEachFrameLine(frame: string, visit: (line: string) => void): void {
  if (frame.length === 0) return;
  let start = 0;
  // Bounded: each pass consumes one line.
  for (;;) {
    const end = frame.indexOf('\n', start);
    const piece = end < 0 ? frame.slice(start) : frame.slice(start, end);
    visit(piece.charCodeAt(0) === 0x22 ? (JSON.parse(piece) as string) : piece);
    if (end < 0) return;
    start = end + 1;
  }
}
