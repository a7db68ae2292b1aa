// The lines of an event log (format.ts) as an Observer of the interpreter, whatever they are
// written to: a file (writer.ts, `--log`) or memory (MemoryLog, the simulation, where many
// worlds share one process and time is virtual). A subclass says where a line goes (`write`),
// and whether it still records (`active`); the header, the lines before a process has a name,
// and the shape of every event are built here, once.
import type { Message } from '../protocol/messages.js';
import { encode } from '../protocol/codec.js';
import { describe } from '../protocol/describe.js';
import type { Addr } from '../reliable/index.js';
import type { Observer } from '../runtime/observer.js';
import type { LogLine } from './format.js';
import { LOG_VERSION } from './version.js';

export interface EventLinesOptions {
  /**
   * Process name in the diagram: `manager`, or the peer's name. A peer learns its name only at
   * `register`: without one, the header waits (with the lines before it) until `bound` names
   * the process, or is written with `fallbackProc` if that never happens.
   */
  proc?: string;
  fallbackProc?: string;
  /** Local clock at the moment of construction: the same clock as every later `now`. */
  now: number;
  /** The process's sockets by name (the peer's `m` and `p`, the manager's one), if bound already. */
  sockets?: Record<string, Addr>;
}

/** Who writes, for the header: the host name, process id and wall-clock time read with `now`. */
export interface Writer { host: string; pid: number; wall: string }

/** A description longer than this is cut: the log is for arrows' labels, not for payloads. */
const MAX_DESCRIPTION = 240;
/** Lines kept while a process has no name yet. */
const EARLY_LINES = 1000;

/** The bytes a message is sent or received as: a count, one datagram, or its fragments. */
export type WireBytes = number | Uint8Array | readonly Uint8Array[];

/**
 * One finished line: its JSON text (no newline), kind and time. Message lines, the bulk of a
 * log, are written as text directly (no object, no generic JSON.stringify per event: that was
 * most of the cost of logging a store batch); other lines go through JSON.stringify.
 */
export interface Line { text: string; k: LogLine['k']; t: number }

export abstract class EventLines implements Observer {
  protected sockets: Record<string, Addr>;
  /** Lines recorded before the process had a name (bounded: EARLY_LINES). */
  private early: Line[] | null = null;
  private readonly startT: number;

  constructor(private readonly lineOpts: EventLinesOptions, private readonly writer: Writer) {
    this.sockets = { ...(lineOpts.sockets ?? {}) };
    this.startT = lineOpts.now;
  }

  /** Where a finished line goes (the header first). */
  protected abstract write(line: Line): void;

  /** False once nothing more is recorded (closed, or the size bound reached). */
  protected get active(): boolean {
    return true;
  }

  /** Called by the subclass once it can write: the header now, or once the process is named. */
  protected begin(): void {
    if (this.lineOpts.proc !== undefined) this.header(this.lineOpts.proc);
    else this.early = [];
  }

  /** A process that never got its name: the header is written with the fallback name now. */
  protected nameless(): void {
    if (this.early !== null) this.header(this.fallback());
  }

  private header(proc: string): void {
    const early = this.early ?? [];
    this.early = null;
    const w = this.writer;
    const t = ms(this.startT);
    this.write({ text: JSON.stringify({ k: 'header', v: LOG_VERSION, proc, host: w.host, pid: w.pid, wall: w.wall, t }), k: 'header', t });
    for (const l of early) this.write(l);
  }

  /** The process bound its sockets (`m`/`p` for a peer): later sends and receives name them. */
  bound(now: number, sockets: Record<string, Addr>, name?: string): void {
    if (this.early !== null) this.header(name ?? this.fallback());
    this.sockets = { ...sockets };
    const list = Object.entries(sockets).map(([via, a]) => `${via}=${a.ip}:${a.port}`).join(' ');
    this.state(now, `bound ${list}`);
  }

  /** A message handed to the network; `via` names the socket, when the process has several. */
  send(now: number, to: Addr, msg: Message, bytes: WireBytes, attempt = 1, via?: string): void {
    if (!this.active) return;
    let extra = '';
    if (typeof bytes !== 'number' && !(bytes instanceof Uint8Array) && bytes.length > 1) extra += `,"dg":${bytes.length}`;
    if (attempt > 1) extra += `,"try":${attempt}`;
    this.message('send', now, this.local(via), endpoint(to), msg, bytes, extra);
  }

  /** A message decoded (after reassembly), before the core's effects are carried out. */
  receive(now: number, from: Addr, msg: Message, bytes: WireBytes, note?: string, via?: string): void {
    if (!this.active) return;
    this.message('recv', now, endpoint(from), this.local(via), msg, bytes, note ? `,"note":${JSON.stringify(note)}` : '');
  }

  /** A line typed at the console. */
  console(now: number, line: string): void {
    if (this.active) this.plain('console', now, line);
  }

  /** A line the process printed. */
  print(now: number, text: string): void {
    if (this.active) this.plain('print', now, text);
  }

  /** A change worth marking on the lifeline (bound, unbound, exit, …). */
  state(now: number, what: string): void {
    if (this.active) this.plain('state', now, what);
  }

  /** The core's timer fired. */
  timer(now: number): void {
    if (!this.active) return;
    const t = ms(now);
    this.line({ text: `{"k":"timer","t":${t}}`, k: 'timer', t });
  }

  private plain(k: 'console' | 'print' | 'state', now: number, text: string): void {
    const t = ms(now);
    this.line({ text: `{"k":"${k}","t":${t},"text":${JSON.stringify(text.slice(0, 4096))}}`, k, t });
  }

  /** A send or receive line (format.ts: Send, Receive), built as text. */
  private message(k: 'send' | 'recv', now: number, src: string, dst: string, msg: Message, bytes: WireBytes, extra: string): void {
    const t = ms(now);
    let text = `{"k":"${k}","t":${t},"type":${JSON.stringify(msg.t)},"src":${JSON.stringify(src)},"dst":${JSON.stringify(dst)},` +
      `"h":"${hashOf(msg, bytes)}","len":${byteCount(bytes)},"d":${JSON.stringify(describe(msg).slice(0, MAX_DESCRIPTION))}`;
    if ('rid' in msg) text += `,"rid":${msg.rid}`;
    if (msg.t === 'find-event' || msg.t === 'event-result') text += `,"qid":${msg.qid}`;
    if (msg.t === 'cmd' || msg.t === 'res') text += `,"cmd":${JSON.stringify(msg.cmd)}`;
    this.line({ text: `${text}${extra}}`, k, t });
  }

  /** `ip:port` of the named socket, or of the only one; empty if the process has not bound any. */
  private local(via?: string): string {
    const addr = via !== undefined ? this.sockets[via] : Object.values(this.sockets)[0];
    return addr ? endpoint(addr) : '';
  }

  private fallback(): string {
    return this.lineOpts.fallbackProc ?? `process-${this.writer.pid}`;
  }

  private line(value: Line): void {
    if (this.early !== null) {
      // No name yet: keep the line for after the header; a process that never registers is
      // named by its fallback once this many lines wait.
      this.early.push(value);
      if (this.early.length >= EARLY_LINES) this.header(this.fallback());
      return;
    }
    this.write(value);
  }
}

/**
 * An event log kept in memory, one JSON text per line (without the newline), appended to `out`:
 * the simulation gives each process one array, and a restarted process's new life appends its
 * own header to it, as a restarted program appends to its file.
 */
export class MemoryLog extends EventLines {
  private closed = false;

  constructor(opts: EventLinesOptions, writer: Writer, readonly out: string[]) {
    super(opts, writer);
    this.begin();
  }

  protected override get active(): boolean {
    return !this.closed;
  }

  protected write(line: Line): void {
    this.out.push(line.text);
  }

  /** Nothing more is recorded; a process still without a name gets its fallback header. */
  close(): void {
    if (this.closed) return;
    this.nameless();
    this.closed = true;
  }
}

export function ms(now: number): number {
  return Math.round(now * 1000) / 1000;
}

export function endpoint(a: Addr): string {
  return `${a.ip}:${a.port}`;
}

function byteCount(bytes: WireBytes): number {
  if (typeof bytes === 'number') return bytes;
  if (bytes instanceof Uint8Array) return bytes.length;
  let n = 0;
  for (const b of bytes) n += b.length;
  return n;
}

/**
 * The message's hash from the bytes at hand: a message that went as one datagram is hashed as
 * that datagram (its bytes are the encoding, at both ends: no second JSON.stringify per event);
 * a fragmented one, or one known by its size only, is encoded again.
 */
function hashOf(msg: Message, bytes: WireBytes): string {
  if (bytes instanceof Uint8Array) return isFragment(bytes) ? hashMessage(msg) : hashBytes(bytes);
  if (typeof bytes !== 'number' && bytes.length === 1) return hashBytes(bytes[0]!);
  return hashMessage(msg);
}

/** `{"t":"frag"…`: a fragment (protocol/wire.ts), whose bytes are not the message's encoding. */
const FRAG_PREFIX = Buffer.from('{"t":"frag"');
function isFragment(b: Uint8Array): boolean {
  if (b.length < FRAG_PREFIX.length) return false;
  for (let i = 0; i < FRAG_PREFIX.length; i++) if (b[i] !== FRAG_PREFIX[i]) return false;
  return true;
}

/**
 * The hash of a message's encoding (the UTF-8 JSON that protocol/codec.ts sends). The receiver
 * of a single datagram hashes the very bytes the sender hashed; a receiver of fragments decodes
 * the same JSON and encodes it again identically. So both ends get the same hash without either
 * keeping the bytes, and a message cut into fragments hashes as the whole.
 */
export function hashMessage(msg: Message): string {
  return hashBytes(encode(msg));
}

/** Bytes hashed at each end of a long encoding. */
const HASH_EDGE = 256;

/**
 * FNV-1a (32 bits, as 8 hex digits) of the length and of the bytes, or for an encoding longer
 * than 2 × HASH_EDGE of its first and last HASH_EDGE bytes: the type, request id and epoch are
 * at the start of every message, and a store batch's 1,400 bytes need not all be read to tell
 * it from the others between the same two ports.
 */
export function hashBytes(b: Uint8Array): string {
  let h = Math.imul(0x811c9dc5 ^ b.length, 0x01000193);
  const n = b.length;
  if (n <= 2 * HASH_EDGE) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  } else {
    for (let i = 0; i < HASH_EDGE; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    for (let i = n - HASH_EDGE; i < n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
