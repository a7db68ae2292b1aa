// The peer process around the pure PeerCore: console lines, two UDP sockets, one timer, the data
// directory. The effects are carried out by the shared interpreter (runtime/interpreter.ts); this
// file only plugs in the real I/O.
import type dgram from 'node:dgram';
import { PeerCore, type PeerConfig, type PeerInput, type Via } from '../peer/core.js';
import type { Addr } from '../reliable/index.js';
import { DatasetCache } from '../data/loader.js';
import { MAX_FIRST_FRAG } from '../protocol/wire.js';
import { Interpreter, type Port } from '../runtime/interpreter.js';
import { ShellIo, packing, type IoOptions } from './shell.js';
import { DeadlineTimer } from './timer.js';
import { bindUdp, closeQuietly } from './udp.js';
import { cryptoSecret } from '../protocol/secrets.js';

export interface PeerShellOptions extends IoOptions {
  manager: Addr;
  dataDir: string;
  config: PeerConfig;
}

export class PeerShell {
  readonly core: PeerCore;
  private readonly io: ShellIo;
  private readonly timer: DeadlineTimer;
  private readonly interp: Interpreter<PeerInput>;
  private readonly sockets: Record<Via, dgram.Socket | null> = { m: null, p: null };

  constructor(options: PeerShellOptions) {
    const data = new DatasetCache(options.dataDir);
    this.core = new PeerCore(options.manager, options.config, { random: Math.random, secret: cryptoSecret });
    this.io = new ShellIo(options);
    this.timer = new DeadlineTimer(() => this.io.now(), () => this.interp.timeout());
    const port: Port = {
      now: () => this.io.now(),
      transmit: (socket, to, bytes) => this.io.sendBytes(socket === 'manager' ? null : this.sockets[socket], to, bytes),
      print: (text) => this.io.print(text),
      bind: (ip, mport, pport) => void this.bind(ip, mport, pport),
      unbind: () => this.unbind(),
      // Read on a later tick, never inside the handler; a year's file is read once per process.
      load: (year, deliver) => void setImmediate(() => deliver({ kind: 'loaded', year, data: data.load(year) })),
      processLine: (traffic) => this.io.processLine(traffic),
      exit: (code) => {
        this.unbind();
        this.io.exit(code);
      },
      arm: (deadline) => this.timer.arm(deadline),
      defer: (run) => void setImmediate(run),
      settled: () => this.io.throttleConsole(this.core.backlog),
    };
    this.interp = new Interpreter<PeerInput>(this.core, port, {
      trace: options.trace, maxPayload: options.config.maxPayload, guard: true, pack: packing(), ...(options.config.local ? { local: options.config.local } : {}), firstFrag: 1 + Math.floor(Math.random() * MAX_FIRST_FRAG), ...(options.observer ? { observer: options.observer } : {}),
    });
  }

  start(): void {
    this.io.exitOnSignals();
    this.io.readConsole((text) => this.interp.input({ kind: 'line', text }));
  }

  private async bind(ip: string, mport: number, pport: number): Promise<void> {
    const [m, p] = await Promise.allSettled([bindUdp(ip, mport), bindUdp(ip, pport)]);
    if (m.status === 'rejected' || p.status === 'rejected') {
      if (m.status === 'fulfilled') closeQuietly(m.value);
      if (p.status === 'fulfilled') closeQuietly(p.value);
      const err = m.status === 'rejected' ? m.reason : (p as PromiseRejectedResult).reason;
      return this.interp.input({ kind: 'bind-failed', error: err instanceof Error ? err.message : String(err) });
    }
    this.listen('m', m.value);
    this.listen('p', p.value);
    this.interp.input({ kind: 'bound' });
  }

  private listen(via: Via, sock: dgram.Socket): void {
    this.sockets[via] = sock;
    const local = sock.address();
    const at = { ip: local.address, port: local.port };
    sock.on('message', (bytes, rinfo) => {
      const from = { ip: rinfo.address, port: rinfo.port };
      const plain = this.io.unseal(from, at, bytes, (kind, text) => this.interp.complain(kind, text));
      if (plain) this.interp.receive(via, from, plain);
    });
    // After binding, errors are per-datagram trouble (e.g. ICMP reports); the socket stays usable.
    sock.on('error', (err) => this.interp.complain(`socket:${via}`, `${via}-port socket: ${err.message.split('\n')[0]}`));
  }

  private unbind(): void {
    closeQuietly(this.sockets.m);
    closeQuietly(this.sockets.p);
    this.sockets.m = null;
    this.sockets.p = null;
  }
}
