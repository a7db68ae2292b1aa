// The manager process around the pure ManagerCore: one UDP socket, console lines, one timer.
import type dgram from 'node:dgram';
import { ManagerCore, type ManagerConfig, type ManagerEffect, type ManagerInput } from '../manager/core.js';
import { ShellIo, type IoOptions } from './shell.js';
import { DeadlineTimer } from './timer.js';
import { bindUdp } from './udp.js';

export interface ManagerShellOptions extends IoOptions {
  bind: string;
  port: number;
  config: ManagerConfig;
}

export class ManagerShell {
  readonly core: ManagerCore;
  private readonly io: ShellIo;
  private readonly timer: DeadlineTimer;
  private sock: dgram.Socket | null = null;

  constructor(private readonly options: ManagerShellOptions) {
    this.core = new ManagerCore(options.config, { random: Math.random });
    this.io = new ShellIo(options, (addr) => this.core.nameOf(addr));
    this.timer = new DeadlineTimer(() => this.io.now(), (now) => this.apply(this.io.guard('a timeout', () => this.core.onTimeout(now))));
  }

  /** Bind, then serve; rejects with a one-line Error if the port cannot be had. */
  async start(): Promise<void> {
    const { bind, port } = this.options;
    this.sock = await bindUdp(bind, port);
    this.sock.on('message', (bytes, rinfo) => this.io.receive(bytes, rinfo,
      (from, msg) => this.io.guard(`a ${msg.t} datagram`, () => this.core.handle(this.io.now(), { kind: 'datagram', from, msg })), (effects) => this.apply(effects)));
    this.sock.on('error', (err) => this.io.complain('socket', `socket: ${err.message.split('\n')[0]}`));
    this.io.print(`manager: listening on ${bind}:${port}`);
    this.io.exitOnSignals();
    this.io.readConsole((text) => this.input({ kind: 'line', text }));
  }

  private input(input: ManagerInput): void {
    this.apply(this.io.guard(input.kind === 'line' ? 'a console line' : input.kind, () => this.core.handle(this.io.now(), input)));
  }

  private apply(effects: ManagerEffect[]): void {
    for (const e of effects) {
      if (this.io.isExiting) return;
      switch (e.kind) {
        case 'send': this.io.send(this.sock, e.to, e.msg, e.attempt); break;
        case 'print': this.io.print(e.text); break;
        case 'note': break; // read by io.receive for the trace line
        case 'exit': this.io.exit(e.code); return;
      }
    }
    this.timer.arm(this.core.nextDeadline());
  }
}
