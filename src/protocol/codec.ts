// The edge: bytes ↔ typed messages. Every datagram is size-checked, JSON-parsed and
// schema-checked here, so the cores only ever see well-typed messages and never throw on input.
import type { Datagram, Message, MessageType } from './messages.js';
import { CHECKS } from './checks.js';
import { whyInvalid } from './explain-lazy.js';

/** Default largest datagram payload: crosses a 1,500-byte Ethernet MTU unfragmented. */
export const DEFAULT_MAX_PAYLOAD = 1400;
/** Absolute ceiling accepted on receive, whatever the configured maximum. */
export const HARD_MAX_PAYLOAD = 8192;
/**
 * Ceiling of a `store` frame between two processes of one machine (net/local.ts): such a datagram
 * never leaves the loopback device (MTU 65,536), so it is not fragmented by IP; 65,507 bytes is
 * UDP's own limit over IPv4, and a sealed datagram (keyed mode) adds its header and tag.
 */
export const LOCAL_MAX_PAYLOAD = 65_000;

export type Decoded = { ok: true; msg: Message } | { ok: false; reason: string };
export type DecodedDatagram = { ok: true; msg: Datagram } | { ok: false; reason: string };

/**
 * A `store` datagram is a JSON header line and its records as the body, one line each:
 *   {"t":"store","rid":…,"epoch":…,"to":…,"sec":"…"[,"of":…]}\n<record line>\n<record line>…
 * so a node that passes a batch on never parses its records, and a capture still reads as text
 * (unless the leader compressed the frame: `--compress`, encodeStore below).
 * Every other message is one JSON object (which JSON.stringify never breaks over lines).
 */
export function encode(msg: Datagram): Buffer {
  // The secret is base64url (schema-checked on the way in), so it needs no JSON escaping.
  if (msg.t === 'store') return encodeStore(msg);
  return Buffer.from(JSON.stringify(msg), 'utf8');
}

/**
 * A store frame. Compressed (`z`, zframe.ts), the body is the deflated bytes, which `recs` holds
 * one per latin1 character, and the header line also says `"z":<inflated bytes>,"n":<records>`.
 */
function encodeStore(msg: Extract<Datagram, { t: 'store' }>): Buffer {
  const head = `{"t":"store","rid":${msg.rid},"epoch":${msg.epoch},"to":${msg.to},"sec":"${msg.sec}"${msg.of === undefined ? '' : `,"of":${msg.of}`}`;
  if (!('z' in msg)) return Buffer.from(`${head}}\n${msg.recs}`, 'utf8');
  const header = Buffer.from(`${head},"z":${msg.z},"n":${msg.n}}\n`, 'utf8');
  const out = Buffer.allocUnsafe(header.length + msg.recs.length);
  header.copy(out);
  out.write(msg.recs, header.length, 'latin1');
  return out;
}

const NEWLINE = 0x0a;

const STORE_HEADER = Buffer.from('{"t":"store",');

/**
 * Decode one datagram; fragments come back as they are (wire.ts puts them together). `storeMax`
 * (above `maxPayload`) admits a larger datagram only if it is a framed `store` batch: the one
 * message a sender cuts to a larger size on a path that allows it (wire.ts, net/local.ts).
 */
export function decode(bytes: Uint8Array, maxPayload = HARD_MAX_PAYLOAD, storeMax = maxPayload): DecodedDatagram {
  if (bytes.length === 0) return { ok: false, reason: 'empty datagram' };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length > maxPayload && !(bytes.length <= storeMax && isStoreFrame(buf))) {
    return { ok: false, reason: `oversized datagram (${bytes.length} bytes > ${maxPayload})` };
  }
  let value: unknown;
  try {
    const nl = buf.indexOf(NEWLINE);
    value = nl < 0 ? JSON.parse(buf.toString('utf8')) : framed(buf, nl);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const t = (value as { t?: unknown }).t;
  if (typeof t !== 'string' || !Object.hasOwn(CHECKS, t)) {
    return { ok: false, reason: `unknown message type ${JSON.stringify(t)?.slice(0, 40) ?? 'undefined'}` };
  }
  // One check compiled ahead of time from the type's schema (checks.ts, gen-checks.ts).
  if (!CHECKS[t as MessageType](value)) return { ok: false, reason: `bad ${t}: ${(whyInvalid(t, value) ?? 'invalid').slice(0, 120)}` };
  return { ok: true, msg: value as Datagram };
}

/** Starts like a store frame's header (the header itself is parsed and checked as usual). */
function isStoreFrame(buf: Buffer): boolean {
  return buf.compare(STORE_HEADER, 0, STORE_HEADER.length, 0, STORE_HEADER.length) === 0 && buf.indexOf(NEWLINE, STORE_HEADER.length) > 0;
}

/** A header line and a body: a store frame if the header says so, else the whole must be JSON. */
function framed(buf: Buffer, nl: number): unknown {
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 0, nl));
  } catch {
    return JSON.parse(buf.toString('utf8'));
  }
  if (typeof header !== 'object' || header === null || (header as { t?: unknown }).t !== 'store' || Object.hasOwn(header, 'recs')) {
    return JSON.parse(buf.toString('utf8'));
  }
  (header as { recs: string }).recs = buf.toString(Object.hasOwn(header, 'z') ? 'latin1' : 'utf8', nl + 1);
  return header;
}
