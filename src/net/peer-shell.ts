// The peer process around the pure PeerCore: console lines, two UDP sockets, one timer.
// Every input goes through core.handle / core.onTimeout; the effects it returns are carried
// out here in order, and the timer is re-armed for the core's next deadline.
import type dgram from 'node:dgram';
import { PeerCore, type PeerConfig, type PeerEffect, type PeerInput, type Via } from '../peer/core.js';
import type { Addr } from '../reliable/index.js';
import { DatasetCache } from '../data/loader.js';
import { ShellIo, type IoOptions } from './shell.js';
import { DeadlineTimer } from './timer.js';
import { bindUdp, closeQuietly } from './udp.js';

export interface PeerShellOptions extends IoOptions {
  manager: Addr;
  dataDir: string;
  config: PeerConfig;
}

export class PeerShell {
  readonly core: PeerCore;
  private readonly io: ShellIo;
  private readonly timer: DeadlineTimer;
  private readonly sockets: Record<Via, dgram.Socket | null> = { m: null, p: null };
  private readonly data: DatasetCache;

  constructor(options: PeerShellOptions) {
    this.data = new DatasetCache(options.dataDir);
    this.core = new PeerCore(options.manager, options.config, { random: Math.random });
    this.io = new ShellIo({ ...options, maxPayload: options.config.maxPayload }, (addr) => this.core.nameOf(addr));
    this.timer = new DeadlineTimer(() => this.io.now(), (now) => this.apply(this.io.guard('a timeout', () => this.core.onTimeout(now))));
  }

  start(): void {
    this.io.exitOnSignals();
    this.io.readConsole((text) => this.input({ kind: 'line', text }));
  }

  private input(input: PeerInput): void {
    this.apply(this.io.guard(input.kind === 'line' ? 'a console line' : input.kind, () => this.core.handle(this.io.now(), input)));
  }

  private apply(effects: PeerEffect[]): void {
    for (const e of effects) {
      if (this.io.isExiting) return;
      switch (e.kind) {
        case 'send': this.io.send(this.sockets[e.via], e.to, e.msg, e.attempt); break;
        case 'print': this.io.print(e.text); break;
        case 'note': break; // read by io.receive for the trace line
        case 'bind': void this.bind(e.ip, e.mport, e.pport); break;
        case 'unbind': this.unbind(); break;
        case 'process-status': this.io.print(this.io.processLine()); break;
        case 'load': this.load(e.year); break;
        case 'exit': this.unbind(); this.io.exit(e.code); return;
      }
    }
    this.timer.arm(this.core.nextDeadline());
    this.io.throttleConsole(this.core.backlog);
  }

  /** Read the year's file on a later tick, so the effects before it (acks) go out first. */
  private load(year: number): void {
    setImmediate(() => this.input({ kind: 'loaded', year, data: this.data.load(year) }));
  }

  private async bind(ip: string, mport: number, pport: number): Promise<void> {
    const [m, p] = await Promise.allSettled([bindUdp(ip, mport), bindUdp(ip, pport)]);
    if (m.status === 'rejected' || p.status === 'rejected') {
      if (m.status === 'fulfilled') closeQuietly(m.value);
      if (p.status === 'fulfilled') closeQuietly(p.value);
      const err = m.status === 'rejected' ? m.reason : (p as PromiseRejectedResult).reason;
      return this.input({ kind: 'bind-failed', error: err instanceof Error ? err.message : String(err) });
    }
    this.listen('m', m.value);
    this.listen('p', p.value);
    this.input({ kind: 'bound' });
  }

  private listen(via: Via, sock: dgram.Socket): void {
    this.sockets[via] = sock;
    sock.on('message', (bytes, rinfo) => this.io.receive(bytes, rinfo,
      (from, msg) => this.io.guard(`a ${msg.t} datagram`, () => this.core.handle(this.io.now(), { kind: 'datagram', via, from, msg })), (effects) => this.apply(effects)));
    // After binding, errors are per-datagram trouble (e.g. ICMP reports); the socket stays usable.
    sock.on('error', (err) => this.io.complain(`socket:${via}`, `${via}-port socket: ${err.message.split('\n')[0]}`));
  }

  private unbind(): void {
    closeQuietly(this.sockets.m);
    closeQuietly(this.sockets.p);
    this.sockets.m = null;
    this.sockets.p = null;
  }
}
