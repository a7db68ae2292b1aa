// Writes a process's event log (format.ts) to a file. Called by the interpreter once per event,
// so it does as little as it can per call: one JSON line (built by lines.ts) into a string
// buffer; the buffer goes to a write stream when it is large or a moment has passed, never with
// a synchronous write on the way.
import { createWriteStream, openSync, writeSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import type { Addr } from '../reliable/index.js';
import { DEFAULT_LOG_MAX_MB, type Header, type LogEvent } from './format.js';
import { EventLines, type EventLinesOptions } from './lines.js';


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

export class EventLog extends EventLines {
  private readonly fd: number;
  private readonly stream: WriteStream;
  private readonly maxBytes: number;
  private buffer: string[] = [];
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

  protected write(value: Header | LogEvent): void {
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
   * directly, but only if the stream has nothing queued, so lines stay in order. (The shells
   * close the log before they exit, so this is for exits they do not control.)
   */
  private flushSync(): void {
    if (!this.closed) this.nameless();
    if (this.closed || this.buffer.length === 0 || this.stream.writableLength > 0) return;
    try {
      writeSync(this.fd, this.buffer.join(''));
    } catch {
      // Exiting anyway: a log that cannot be written is not worth a crash report.
    }
    this.buffer = [];
  }
}
