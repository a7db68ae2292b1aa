// Writes a process's event log (format.ts). Called by the interpreter once per event, so it does
// as little as it can per call: one JSON line into a string buffer; the buffer goes to a write
// stream when it is large or a moment has passed, never with a synchronous write on the way.
import { createWriteStream, openSync, writeSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import type { Message } from '../protocol/messages.js';
import { describe } from '../protocol/describe.js';
import type { Addr } from '../reliable/index.js';
import type { Observer } from '../runtime/observer.js';
import { DEFAULT_LOG_MAX_MB, LOG_VERSION, type Header, type LogEvent, type MessageEvent } from './format.js';

export interface EventLogOptions {
  /** File to append to (a restarted process adds a second header to the same file). */
  file: string;
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
  maxBytes?: number;
}

/** Bytes buffered before they are handed to the stream, and the longest a line waits. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 200;
/** A description longer than this is cut: the log is for arrows' labels, not for payloads. */
const MAX_DESCRIPTION = 240;
/** Lines kept while a process has no name yet. */
const EARLY_LINES = 1000;

/** The bytes a message is sent or received as: a count, one datagram, or its fragments. */
export type WireBytes = number | Uint8Array | readonly Uint8Array[];

export class EventLog implements Observer {
  private readonly fd: number;
  private readonly stream: WriteStream;
  private readonly maxBytes: number;
  private sockets: Record<string, Addr>;
  private buffer: string[] = [];
  private buffered = 0;
  private written = 0;
  private full = false;
  private closed = false;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Lines recorded before the process had a name (bounded: EARLY_LINES). */
  private early: (Header | LogEvent)[] | null = null;
  private readonly startT: number;
  private readonly onExit = (): void => this.flushSync();

  constructor(private readonly opts: EventLogOptions) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_LOG_MAX_MB * 1024 * 1024;
    this.sockets = { ...(opts.sockets ?? {}) };
    // Opened once, synchronously, so that a bad path is an error at start-up rather than later.
    this.fd = openSync(opts.file, 'a');
    this.stream = createWriteStream('', { fd: this.fd, autoClose: true });
    this.stream.on('error', () => { this.closed = true; }); // a full disk must not take the process down
    process.on('exit', this.onExit);
    this.startT = opts.now;
    this.wall = new Date().toISOString();
    if (opts.proc !== undefined) this.header(opts.proc);
    else this.early = [];
  }

  private readonly wall: string;

  private header(proc: string): void {
    const early = this.early ?? [];
    this.early = null;
    this.line({ k: 'header', v: LOG_VERSION, proc, host: hostname(), pid: process.pid, wall: this.wall, t: ms(this.startT) });
    for (const l of early) this.line(l);
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
    const e = this.message('send', now, this.local(via), endpoint(to), msg, bytes) as Extract<MessageEvent, { k: 'send' }>;
    if (attempt > 1) e.try = attempt;
    this.line(e);
  }

  /** A message decoded (after reassembly), before the core's effects are carried out. */
  receive(now: number, from: Addr, msg: Message, bytes: WireBytes, note?: string, via?: string): void {
    if (!this.active) return;
    const e = this.message('recv', now, endpoint(from), this.local(via), msg, bytes) as Extract<MessageEvent, { k: 'recv' }>;
    if (note) e.note = note;
    this.line(e);
  }

  /** A line typed at the console. */
  console(now: number, line: string): void {
    if (this.active) this.line({ k: 'console', t: ms(now), text: line.slice(0, 4096) });
  }

  /** A line the process printed. */
  print(now: number, text: string): void {
    if (this.active) this.line({ k: 'print', t: ms(now), text: text.slice(0, 4096) });
  }

  /** A change worth marking on the lifeline (bound, unbound, exit, …). */
  state(now: number, what: string): void {
    if (this.active) this.line({ k: 'state', t: ms(now), text: what.slice(0, 4096) });
  }

  /** The core's timer fired. */
  timer(now: number): void {
    if (this.active) this.line({ k: 'timer', t: ms(now) });
  }

  /** Bytes written so far (header included): the size bound applies to this. */
  get size(): number {
    return this.written;
  }

  /** Write out everything and close the file. Later calls record nothing. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.early !== null) this.header(this.fallback());
    this.closed = true;
    process.off('exit', this.onExit);
    this.flush();
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  private get active(): boolean {
    return !this.full && !this.closed;
  }

  private message(k: 'send' | 'recv', now: number, src: string, dst: string, msg: Message, bytes: WireBytes): MessageEvent {
    const e: MessageEvent = { k, t: ms(now), type: msg.t, src, dst, h: hashMessage(msg), len: byteCount(bytes), d: describe(msg).slice(0, MAX_DESCRIPTION) };
    if ('rid' in msg) e.rid = msg.rid;
    if (msg.t === 'find-event' || msg.t === 'event-result') e.qid = msg.qid;
    if (msg.t === 'cmd' || msg.t === 'res') e.cmd = msg.cmd;
    if (k === 'send' && Array.isArray(bytes) && bytes.length > 1) (e as { dg?: number }).dg = bytes.length;
    return e;
  }

  /** `ip:port` of the named socket, or of the only one; empty if the process has not bound any. */
  private local(via?: string): string {
    const addr = via !== undefined ? this.sockets[via] : Object.values(this.sockets)[0];
    return addr ? endpoint(addr) : '';
  }

  private fallback(): string {
    return this.opts.fallbackProc ?? `process-${process.pid}`;
  }

  private line(value: Header | LogEvent): void {
    if (this.early !== null) {
      // No name yet: keep the line for after the header; a process that never registers is
      // named by its fallback once this many lines wait.
      this.early.push(value);
      if (this.early.length >= EARLY_LINES) this.header(this.fallback());
      return;
    }
    const text = JSON.stringify(value) + '\n';
    const size = Buffer.byteLength(text);
    if (this.written + size > this.maxBytes && value.k !== 'header') {
      // One last line says why the log ends here; it fits, as the bound leaves room for it.
      this.full = true;
      const end = JSON.stringify({ k: 'full', t: value.t, text: `log size bound of ${this.maxBytes} bytes reached; later events are not recorded` }) + '\n';
      this.push(end, Buffer.byteLength(end));
      this.flush();
      return;
    }
    this.push(text, size);
  }

  private push(text: string, size: number): void {
    this.buffer.push(text);
    this.buffered += size;
    this.written += size;
    if (this.buffered >= FLUSH_BYTES) this.flush();
    else if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushTimer.unref(); // the log never keeps a process alive
    }
  }

  private flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(chunk);
  }

  /**
   * At process exit no asynchronous write can finish: what is still buffered here is written
   * directly, but only if the stream has nothing queued, so lines stay in order.
   */
  private flushSync(): void {
    if (this.early !== null && !this.closed) this.header(this.fallback());
    if (this.closed || this.buffer.length === 0 || this.stream.writableLength > 0) return;
    try {
      writeSync(this.fd, this.buffer.join(''));
    } catch {
      // Exiting anyway: a log that cannot be written is not worth a crash report.
    }
    this.buffer = [];
  }
}

function ms(now: number): number {
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
 * FNV-1a over the message's JSON encoding (what protocol/codec.ts sends). The receiver decodes
 * the same JSON and encodes it again identically, so both ends get the same hash without either
 * keeping the bytes, and a message cut into fragments hashes as the whole.
 */
export function hashMessage(msg: Message): string {
  const s = JSON.stringify(msg);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
