// Writes a process's event log (format.ts) to a file. Called by the interpreter once per event,
// so it does as little as it can per call: one JSON line (built by lines.ts) copied into a byte
// buffer outside the JavaScript heap; the buffer goes to a write stream when it is full or a
// moment has passed, never with a synchronous write on the way. Each line's string dies young;
// strings kept until a flush (up to 200 ms) would outlive young-generation collections and be
// promoted into the old generation, which in a peer holding a year's records is costly to collect.
import { createWriteStream, openSync, writeSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import type { Addr } from '../reliable/index.js';
import { DEFAULT_LOG_MAX_MB } from './version.js';
import { EventLines, type EventLinesOptions, type Line } from './lines.js';


export interface EventLogOptions extends EventLinesOptions {
  /** File to append to (a restarted process adds a second header to the same file). */
  file: string;
  /** The process's sockets by name (the peer's `m` and `p`, the manager's one), if bound already. */
  sockets?: Record<string, Addr>;
  maxBytes?: number;
}

/** Bytes buffered before they are handed to the stream, and the longest a line waits. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 200;
/** A line is at most a few KB (texts are cut at 4,096 characters): a chunk holds many. */
const CHUNK_BYTES = FLUSH_BYTES + 16 * 1024;

export class EventLog extends EventLines {
  private readonly fd: number;
  private readonly stream: WriteStream;
  private readonly maxBytes: number;
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private buffered = 0;
  private written = 0;
  private full = false;
  private closed = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly onExit = (): void => this.flushSync();

  constructor(opts: EventLogOptions) {
    super(opts, { host: hostname(), pid: process.pid, wall: new Date().toISOString() });
    this.maxBytes = opts.maxBytes ?? DEFAULT_LOG_MAX_MB * 1024 * 1024;
    // Opened once, synchronously, so that a bad path is an error at start-up rather than later.
    this.fd = openSync(opts.file, 'a');
    this.stream = createWriteStream('', { fd: this.fd, autoClose: true });
    this.stream.on('error', () => { this.closed = true; }); // a full disk must not take the process down
    process.on('exit', this.onExit);
    this.begin();
  }

  /** Bytes written so far (header included): the size bound applies to this. */
  get size(): number {
    return this.written;
  }

  /** Write out everything and close the file. Later calls record nothing. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.nameless();
    this.closed = true;
    process.off('exit', this.onExit);
    this.flush();
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  protected override get active(): boolean {
    return !this.full && !this.closed;
  }

  protected write(line: Line): void {
    // Copied into the chunk first (its byte count is what chunk.write returns), counted only if
    // it stays within the bound.
    const size = this.push(`${line.text}\n`);
    if (this.written + size > this.maxBytes && line.k !== 'header') {
      // One last line says why the log ends here; it fits, as the bound leaves room for it.
      this.full = true;
      const end = JSON.stringify({ k: 'full', t: line.t, text: `log size bound of ${this.maxBytes} bytes reached; later events are not recorded` }) + '\n';
      this.commit(this.push(end));
      this.flush();
      return;
    }
    this.commit(size);
  }

  /** Copies the text after the chunk's committed bytes (a fresh chunk if it might not fit); returns its size. */
  private push(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that means the copy is whole.
    const room = 3 * text.length;
    if (this.buffered + room > this.chunk.length) this.flush();
    if (room > this.chunk.length) this.chunk = Buffer.allocUnsafe(room); // beyond the format's bounds: never cut
    return this.chunk.write(text, this.buffered);
  }

  /** The bytes just copied belong to the log. */
  private commit(size: number): void {
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
    if (this.buffered === 0) return;
    const chunk = this.chunk.subarray(0, this.buffered);
    // The stream keeps the filled chunk until it is written; lines go to a fresh one.
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, this.chunk.length));
    this.buffered = 0;
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(chunk);
  }

  /**
   * At process exit no asynchronous write can finish: what is still buffered here is written
   * directly, but only if the stream has nothing queued, so lines stay in order. (The shells
   * close the log before they exit, so this is for exits they do not control.)
   */
  private flushSync(): void {
    if (!this.closed) this.nameless();
    if (this.closed || this.buffered === 0 || this.stream.writableLength > 0) return;
    try {
      writeSync(this.fd, this.chunk, 0, this.buffered);
    } catch {
      // Exiting anyway: a log that cannot be written is not worth a crash report.
    }
    this.buffered = 0;
  }
}
