// The manager process around the pure ManagerCore: one UDP socket, console lines, one timer. The
// effects are carried out by the shared interpreter (runtime/interpreter.ts).
import type dgram from 'node:dgram';
import { ManagerCore, type ManagerConfig, type ManagerInput } from '../manager/core.js';
import { MAX_FIRST_FRAG } from '../protocol/wire.js';
import { Interpreter } from '../runtime/interpreter.js';
import { ShellIo, packing, type IoOptions } from './shell.js';
import { DeadlineTimer } from './timer.js';
import { bindUdp } from './udp.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import { fanOut, type Observer } from '../runtime/observer.js';
import { cryptoSecret } from '../protocol/secrets.js';
import type { Journal, Opened } from './journal.js';

export interface ManagerShellOptions extends IoOptions {
  bind: string;
  port: number;
  config: ManagerConfig;
  /** More observers besides `observer` (the live view, live/): each is told of every event. */
  observers?: readonly Observer[];
  /** --state FILE: the journal every change is saved to, and what it held at start (net/journal.ts). */
  journal?: Opened;
}

export class ManagerShell {
  readonly core: ManagerCore;
  private readonly io: ShellIo;
  private readonly timer: DeadlineTimer;
  private readonly interp: Interpreter<ManagerInput>;
  private sock: dgram.Socket | null = null;
  private readonly observer: Observer | undefined;

  constructor(private readonly options: ManagerShellOptions) {
    const journal = options.journal?.journal;
    this.core = new ManagerCore({ ...options.config, durable: journal !== undefined }, { random: Math.random, secret: cryptoSecret });
    this.observer = fanOut([options.observer, ...(options.observers ?? [])]);
    this.io = new ShellIo(options);
    this.timer = new DeadlineTimer(() => this.io.now(), () => this.interp.timeout());
    this.interp = new Interpreter<ManagerInput>(this.core, {
      now: () => this.io.now(),
      transmit: (_socket, to, bytes) => this.io.sendBytes(this.sock, to, bytes),
      print: (text) => this.io.print(text),
      // The manager binds its one socket at start and never asks for more, nor for data.
      bind: () => undefined,
      unbind: () => undefined,
      load: (year, deliver) => void setImmediate(() => deliver({ kind: 'loaded', year, data: 'the manager reads no data' })),
      processLine: (traffic) => this.io.processLine(traffic),
      exit: (code) => this.io.exit(code),
      arm: (deadline) => this.timer.arm(deadline),
      defer: (run) => void setImmediate(run),
      ...(journal ? { persist: (change: unknown) => journal.append(change) } : {}),
    }, {
      trace: options.trace, maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD, guard: true, pack: packing(), firstFrag: 1 + Math.floor(Math.random() * MAX_FIRST_FRAG), ...(this.observer ? { observer: this.observer } : {}),
    });
  }

  /** Bind, then serve; rejects with a one-line Error if the port cannot be had. */
  async start(): Promise<void> {
    const { bind, port } = this.options;
    this.sock = await bindUdp(bind, port);
    this.observer?.bound(this.io.now(), { manager: { ip: bind, port } });
    const at = { ip: bind, port };
    this.sock.on('message', (bytes, rinfo) => {
      const from = { ip: rinfo.address, port: rinfo.port };
      const plain = this.io.unseal(from, at, bytes, (kind, text) => this.interp.complain(kind, text));
      if (plain) this.interp.receive('manager', from, plain);
    });
    this.sock.on('error', (err) => this.interp.complain('socket', `socket: ${err.message.split('\n')[0]}`));
    // The saved state goes in before the first datagram is read (PROTOCOL §4.10).
    const opened = this.options.journal;
    if (opened) {
      for (const note of opened.notes) this.io.print(`manager: ${note}`);
      if (opened.saved) this.interp.input({ kind: 'restored', state: opened.saved.state, source: opened.journal.file });
      if (this.interp.isExited) return;
    }
    this.io.print(`manager: listening on ${bind}:${port}`);
    this.io.exitOnSignals();
    this.io.readConsole((text) => {
      this.interp.input({ kind: 'line', text });
      if (opened && text.trim() === 'status' && !this.interp.isExited) this.io.print(journalLine(opened.journal));
    });
  }
}

/** `status` with --state: what saving has cost so far (PROTOCOL §4.10). */
function journalLine(j: Journal): string {
  const s = j.stats;
  const avg = s.saves === 0 ? 0 : s.totalMs / s.saves;
  return `state: ${j.file}: ${s.saves} saves since start (${s.bytes} bytes), ${avg.toFixed(2)} ms each on average (write + fsync), ${s.maxMs.toFixed(2)} ms at most; ${s.compactions} compactions`;
}
