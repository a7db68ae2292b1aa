// What the peer and manager shells share around the effect interpreter (runtime/interpreter.ts):
// the clock, buffered console output, sending datagrams (through the fault injector), reading
// console lines with back-pressure, the process line of `status`, and a clean exit on request or
// signal. Tracing, encoding and complaints are the interpreter's, shared with the simulation.
import type dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Addr } from '../reliable/index.js';
import type { Traffic } from '../runtime/interpreter.js';
import type { TraceMode } from './usage.js';
import type { Observer } from '../runtime/observer.js';
import type { Keyed } from '../crypto/seal.js';
import { Chaos, type ChaosSpec } from './chaos.js';
import { LineWriter } from './lines.js';
import { LineSplitter, MAX_LINE_CHARS } from './console-lines.js';

/** Console lines waiting in a core before stdin is paused, and when it is resumed. */
const CONSOLE_HIGH_WATER = 500;
const CONSOLE_LOW_WATER = 100;
/**
 * Keyed mode holds datagrams larger than this (store batches between processes of one machine)
 * until the acks of the same turn are out: see ShellIo.hold. Measured for 60 KB batches only.
 */
const HOLD_ABOVE = 1400;
/** The longest an exit waits for the event log to reach its file. */
const EXIT_CLOSE_MS = 2_000;

export interface IoOptions {
  trace: TraceMode;
  chaos: ChaosSpec | null;
  /** Largest datagram; bigger messages travel as fragments (protocol/wire.ts). */
  maxPayload?: number;
  /** Told of every event (the `--log` event log, the live view). */
  observer?: Observer;
  /** Keyed mode (crypto/seal.ts): every datagram sealed on the way out and opened on the way in. */
  keyed?: Keyed | null;
}

/**
 * Whether the interpreter packs several messages per datagram (protocol/pack.ts): yes, unless
 * DHT_PACK=0 (kept for A/B measurements of one build: docs/BENCHMARKS.md, sixth round).
 */
export function packing(): boolean {
  return process.env.DHT_PACK !== '0';
}

export class ShellIo {
  readonly out = new LineWriter();
  private readonly chaos: Chaos | null;
  private exiting = false;
  private console: NodeJS.ReadStream | null = null;
  private consolePaused = false;
  private readonly observer: IoOptions['observer'];

  private readonly keyed: Keyed | null;
  private heldQueue: { sock: dgram.Socket; to: Addr; plain: Buffer }[] = [];
  /** Ports (of any address: rarely more than two destinations) with a datagram held. */
  private readonly held = new Set<number>();

  constructor(options: IoOptions) {
    this.chaos = options.chaos ? new Chaos(options.chaos) : null;
    this.observer = options.observer;
    this.keyed = options.keyed ?? null;
  }

  /**
   * A received datagram as the wire layer takes it: in keyed mode opened (authenticated, fresh,
   * addressed to `at`, not a replay), else as it came. A refusal is a rate-limited line, keyed by
   * kind and not by source, so spraying source addresses cannot get around the limit.
   */
  unseal(from: Addr, at: Addr, bytes: Buffer, complain: (kind: string, text: string) => void): Buffer | null {
    const keyed = this.keyed;
    if (!keyed) return bytes;
    const opened = keyed.open(from, at, bytes);
    if (opened.ok) return opened.plain;
    complain(`keyed:${opened.kind}`, `refused a datagram from ${from.ip}:${from.port}: ${opened.reason}`);
    return null;
  }

  /** Monotonic milliseconds: the `now` every core call gets. */
  now(): number {
    return performance.now();
  }

  print(text: string): void {
    this.out.line(text);
  }

  get isExiting(): boolean {
    return this.exiting;
  }

  /** One datagram, through the fault injector if one is configured; lost silently if the socket is gone. */
  sendBytes(sock: dgram.Socket | null, to: Addr, plain: Buffer): void {
    if (!sock) return;
    if (this.keyed && (plain.length > HOLD_ABOVE || this.held.has(to.port))) return this.hold(sock, to, plain);
    this.transmit(sock, to, plain);
  }

  private transmit(sock: dgram.Socket, to: Addr, plain: Buffer): void {
    // Sealed as header, ciphertext and tag, sent as one datagram (sendmsg gathers them, no join).
    const bytes = this.keyed ? this.keyed.sealParts(to, plain) : plain;
    const deliver = (): void => {
      try {
        // No per-send callback: a failed send is reported through the socket's 'error' event
        // (the shells log it, rate-limited), and a callback per datagram is measurable overhead.
        sock.send(bytes, to.port, to.ip);
      } catch {
        // The socket closed while a held-back (chaos) datagram waited: it is lost, as UDP may lose it.
      }
    };
    if (this.chaos) this.chaos.send(deliver);
    else deliver();
  }

  /**
   * Keyed mode: a large datagram (a store batch forwarded) is sealed and sent after the acks of
   * the same turn, which the core flushes in the next immediate. A hop's store stream is clocked
   * by its acks (a window of 2 batches of 60 KB), and a seal costs 100-300 µs in a peer (cold):
   * sealing the forwarded batch first held the upstream sender's window that much longer per
   * batch. Later datagrams to a destination with one held wait behind it, so each destination
   * still gets its datagrams in the order sent. Worth 1-4 % of a keyed setup's time, no CPU
   * (docs/BENCHMARKS.md, "Keyed mode, fifth round"); plain mode measured nothing from it.
   */
  private hold(sock: dgram.Socket, to: Addr, plain: Buffer): void {
    this.heldQueue.push({ sock, to, plain });
    this.held.add(to.port);
    if (this.heldQueue.length > 1) return;
    // After the current callback (nextTick), so that the core's ack flush, armed as an immediate
    // at its end, is queued ahead of this one.
    process.nextTick(() => setImmediate(() => {
      const queue = this.heldQueue;
      this.heldQueue = [];
      this.held.clear();
      for (const h of queue) this.transmit(h.sock, h.to, h.plain);
    }));
  }

  /** What the process itself has used: printed after the core's own status line. */
  processLine(t: Traffic): string {
    const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const cpu = process.cpuUsage();
    return `process: peak RSS ${rssMb} MB; sent ${t.sent} datagrams (${t.sentBytes} bytes), received ${t.received} (${t.receivedBytes} bytes); ` +
      `messages ${t.sentMessages} sent, ${t.receivedMessages} received; ` +
      `CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`;
  }

  /** Each console line to onLine. End of input does not stop the process: it keeps serving. */
  readConsole(onLine: (text: string) => void): void {
    const input = process.stdin;
    const lines = new LineSplitter((text) => {
      if (!this.exiting) onLine(text);
    }, (chars) => this.print(`console: a line of more than ${MAX_LINE_CHARS} characters (${chars} so far, no newline) was dropped`));
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => lines.push(chunk));
    input.on('end', () => lines.end());
    this.console = input;
  }

  /**
   * Back-pressure on piped input: stop reading stdin while `backlog` lines wait for their turn,
   * so a file of thousands of commands is taken in as fast as they are answered, never dropped.
   */
  throttleConsole(backlog: number): void {
    if (!this.console) return;
    if (!this.consolePaused && backlog >= CONSOLE_HIGH_WATER) {
      this.console.pause();
      this.consolePaused = true;
    } else if (this.consolePaused && backlog <= CONSOLE_LOW_WATER) {
      this.console.resume();
      this.consolePaused = false;
    }
  }

  /** Ctrl-C and kill end the process cleanly, with the conventional 128+signal status. */
  exitOnSignals(): void {
    process.on('SIGINT', () => this.exit(130));
    process.on('SIGTERM', () => this.exit(143));
  }

  /**
   * Write out everything printed so far, then exit. The observer (the event log) is closed
   * first, so its last lines reach the file: at 'exit' a write still in flight would be lost.
   * A disk that does not answer within EXIT_CLOSE_MS does not hold the exit up.
   */
  exit(code: number): void {
    if (this.exiting) return;
    this.exiting = true;
    let drained = false;
    const drain = (): void => {
      if (drained) return;
      drained = true;
      this.out.drain(() => process.exit(code));
    };
    if (!this.observer?.close) return drain();
    const timer = setTimeout(drain, EXIT_CLOSE_MS);
    Promise.resolve(this.observer.close()).catch(() => {}).finally(() => {
      clearTimeout(timer);
      drain();
    });
  }
}
