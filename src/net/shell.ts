// What the peer and manager shells share: the clock, buffered console output, the datagram
// trace, encoding and sending (through the fault injector), decoding with rate-limited
// complaints, reading console lines, and a clean exit on request or signal.
import type dgram from 'node:dgram';
import { createInterface, type Interface } from 'node:readline';

/** Console lines waiting in a core before stdin is paused, and when it is resumed. */
const CONSOLE_HIGH_WATER = 500;
const CONSOLE_LOW_WATER = 100;
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import { Wire } from '../protocol/wire.js';
import type { Message } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import { Complaints } from '../console/ratelimit.js';
import { Chaos, type ChaosSpec } from './chaos.js';
import { LineWriter } from './lines.js';
import { traceLine, traced } from './trace.js';
import type { TraceMode } from './usage.js';

export interface IoOptions {
  trace: TraceMode;
  chaos: ChaosSpec | null;
  /** Largest datagram; bigger messages travel as fragments (protocol/wire.ts). */
  maxPayload?: number;
}

export class ShellIo {
  readonly out = new LineWriter();
  private readonly complaints = new Complaints();
  private readonly chaos: Chaos | null;
  private readonly wire: Wire;
  private readonly names = new Map<string, string>();
  private exiting = false;
  private console: Interface | null = null;
  private consolePaused = false;
  /** Traffic counters for `status` (and the benchmark, which reads them from it). */
  readonly traffic = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0 };

  constructor(private readonly options: IoOptions, private readonly nameOf: (addr: Addr) => string | undefined) {
    this.chaos = options.chaos ? new Chaos(options.chaos) : null;
    this.wire = new Wire(options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
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

  send(sock: dgram.Socket | null, to: Addr, msg: Message, attempt: number): void {
    if (traced(this.options.trace, msg)) {
      const name = this.name(to);
      const line = traceLine('sent', name, to, msg, attempt);
      // Answers to strangers (refused impostor commands) are counted, not each traced, in summary mode.
      if (name === undefined && this.options.trace === 'summary') this.complain(`stranger-out:${msg.t}`, line);
      else this.print(line);
    }
    if (!sock) return;
    let datagrams: Buffer[];
    try {
      datagrams = this.wire.datagrams(msg);
    } catch (err) {
      // Too large even in fragments: refuse this one message, keep the process.
      return this.complain(`too-large:${msg.t}`, `cannot send ${msg.t} to ${to.ip}:${to.port}: ${(err as Error).message}`);
    }
    for (const bytes of datagrams) this.sendBytes(sock, to, bytes);
  }

  private sendBytes(sock: dgram.Socket, to: Addr, bytes: Buffer): void {
    this.traffic.sent += 1;
    this.traffic.sentBytes += bytes.length;
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
   * Decode an incoming datagram (reassembling fragments) and hand it to `handle` (the core); a
   * bad one gets a rate-limited line instead. The trace line is made after the core has seen the
   * message, so a sender it introduces (set-id, join) is named, but printed before its effects.
   */
  receive<E extends { kind: string }>(bytes: Buffer, rinfo: dgram.RemoteInfo, handle: (from: Addr, msg: Message) => E[], apply: (effects: E[]) => void): void {
    const from = { ip: rinfo.address, port: rinfo.port };
    this.traffic.received += 1;
    this.traffic.receivedBytes += bytes.length;
    const decoded = this.wire.receive(from, bytes);
    if (decoded.ok === 'partial') return;
    if (!decoded.ok) {
      this.complain(`bad:${from.ip}:${from.port}`, `bad datagram from ${from.ip}:${from.port}: ${decoded.reason}`);
      return;
    }
    const effects = handle(from, decoded.msg);
    const ignored = effects.some((e) => e.kind === 'note' && (e as { verdict?: string }).verdict === 'ignored');
    if (traced(this.options.trace, decoded.msg)) {
      const name = this.name(from);
      const line = traceLine('received', name, from, decoded.msg);
      // Datagrams from strangers, or that the core ignored, must not flood the summary trace:
      // they are counted like complaints.
      if ((name === undefined || ignored) && this.options.trace === 'summary') this.complain(`stranger:${decoded.msg.t}`, line);
      else this.print(line);
    }
    apply(effects);
  }

  /** The core's name for an address, or the last name it had (a deregistered peer's answer is still named). */
  private name(addr: Addr): string | undefined {
    const key = `${addr.ip}:${addr.port}`;
    const known = this.nameOf(addr);
    if (known === undefined) return this.names.get(key);
    if (this.names.size >= 4096) this.names.clear(); // bounded: only a trace nicety
    this.names.set(key, known);
    return known;
  }

  /** What the process itself has used: printed after the core's own status line. */
  processLine(): string {
    const t = this.traffic;
    const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const cpu = process.cpuUsage();
    return `process: peak RSS ${rssMb} MB; sent ${t.sent} datagrams (${t.sentBytes} bytes), received ${t.received} (${t.receivedBytes} bytes); ` +
      `CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`;
  }

  /**
   * Last line of defence: a bug in a core must not kill a process that holds part of a DHT.
   * The error is reported in one line (rate-limited) and the event is dropped.
   */
  guard<E>(what: string, step: () => E[]): E[] {
    try {
      return step();
    } catch (err) {
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.complain(`internal:${what}`, `internal error while handling ${what}: ${text} (the event was dropped; the process keeps running)`);
      return [];
    }
  }

  complain(kind: string, text: string): void {
    const line = this.complaints.note(this.now(), kind, text);
    if (line) this.print(line);
  }

  /** Each console line to onLine. End of input does not stop the process: it keeps serving. */
  readConsole(onLine: (text: string) => void): void {
    const rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
    rl.on('line', (text) => {
      if (!this.exiting) onLine(text);
    });
    this.console = rl;
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

  /** Write out everything printed so far, then exit. */
  exit(code: number): void {
    if (this.exiting) return;
    this.exiting = true;
    this.out.drain(() => process.exit(code));
  }
}
