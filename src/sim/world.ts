// A deterministic world for the real cores: one manager and many peers on an in-memory network
// with a virtual clock and a seeded random source that drops, duplicates, delays and reorders
// datagrams, cuts partitions, and crashes and restarts processes. Every process runs its core
// through the same effect interpreter as the programs (runtime/interpreter.ts); only the port is
// simulated. Nothing here is a second implementation of the protocol.
import { createHash, type Hash } from 'node:crypto';
import { ManagerCore, type ManagerConfig, type ManagerInput } from '../manager/core.js';
import { PeerCore, type PeerConfig, type PeerEnv, type PeerInput } from '../peer/core.js';
import type { LineDataset } from '../data/record.js';
import { addrKey, type Addr } from '../reliable/index.js';
import { MAX_FIRST_FRAG } from '../protocol/wire.js';
import { Interpreter, type Port, type Socket } from '../runtime/interpreter.js';
import type { Loaded } from '../runtime/effects.js';
import type { TraceMode } from '../net/usage.js';
import type { Observer } from '../runtime/observer.js';
import { EventHeap } from './heap.js';
import { forkRandom } from './rng.js';
import { Network, type Faults, type Latency } from './network.js';
import { seededSecret } from '../protocol/secrets.js';
import { Mirror } from '../manager/snapshot.js';

export type { Faults, Latency } from './network.js';

export interface WorldOptions {
  seed: number;
  faults: Faults;
  /** Datagram travel times (default `lan`: 0.2–0.4 ms). */
  latency?: Latency;
  manager: ManagerConfig;
  peer: PeerConfig;
  datasets: Map<number, LineDataset>;
  /** The datagram trace in every node's prints (default off). */
  trace?: TraceMode;
  /** Echo every print and datagram, for replaying a failing seed. */
  verbose?: boolean;
  /** Where verbose lines go (default stdout). */
  echo?: (line: string) => void;
  /** Keep a digest of every print and delivered datagram (digest()): costs a hash per datagram. */
  digest?: boolean;
  /**
   * An observer for each process life (its interpreter tells it of every event, in virtual
   * time): the event logs of the simulation (sim/logs.ts). Called at every start and restart.
   */
  observe?: (proc: string, now: number) => Observer | undefined;
  /**
   * Largest datagram of every process's wire (default: the peers' maxPayload, which also sizes
   * their store batches): smaller, messages are cut into fragments, as on a path of small MTU.
   */
  wirePayload?: number;
  /** The manager runs without --state: a restart forgets every peer (a test shows the checker catches it). */
  stateless?: boolean;
  /** How a peer's core is made: a test may plug in a deliberately broken one. */
  makePeerCore?: (manager: Addr, config: PeerConfig, env: PeerEnv) => PeerCore;
}

type Event =
  | { at: number; seq: number; kind: 'datagram'; from: string; src: Addr; to: Addr; bytes: Buffer }
  | { at: number; seq: number; kind: 'timer'; node: string; life: number; deadline: number }
  | { at: number; seq: number; kind: 'line'; node: string; text: string }
  | { at: number; seq: number; kind: 'call'; node: string | null; life: number; run: () => void };

/** What every simulated process has: its prints, its life (a restart starts a new one), its timer. */
interface Proc {
  name: string;
  prints: string[];
  /** null while running; the exit code once it exited, -9 once killed. */
  exitCode: number | null;
  armed: number | undefined;
  /** Incremented by each crash and restart: events of an earlier life are dropped. */
  life: number;
  interp: Interpreter<PeerInput> | Interpreter<ManagerInput>;
  /** The observer of the current life, if any. */
  observer: Observer | undefined;
}

export interface SimPeer extends Proc {
  core: PeerCore;
  m: Addr;
  p: Addr;
  interp: Interpreter<PeerInput>;
  datasets: Map<number, LineDataset>;
}

interface SimManager extends Proc {
  core: ManagerCore;
  interp: Interpreter<ManagerInput>;
}

export const MANAGER_ADDR: Addr = { ip: '127.0.0.1', port: 4000 };
/** Simulated time to read a year's data: 1–50 ms. */
const LOAD_MS = [1, 50] as const;

export class World {
  now = 0;
  readonly peers = new Map<string, SimPeer>();
  datagrams = 0;
  dropped = 0;
  duplicated = 0;
  cut = 0; // datagrams lost to a partition
  readonly network: Network;
  private readonly mgr: SimManager;
  private readonly queue = new EventHeap<Event>();
  private seq = 0;
  private readonly endpoints = new Map<string, { node: string; socket: Socket }>();
  private readonly loadRandom: () => number;
  private readonly hash: Hash | null;
  /** Called after every event (the checker watches the manager's state through it). */
  onEvent: (() => void) | null = null;
  /** Called with the message type of every datagram sent (a measurement hook: sim/detect.ts). */
  onSend: ((t: string) => void) | null = null;
  /** Called with every line a process prints, as it is printed. */
  onPrint: ((node: string, text: string) => void) | null = null;
  /**
   * What the manager's journal holds: every change it persisted (each as JSON text would carry
   * it), added up. It survives the manager's crash and is handed to the next one as a snapshot,
   * as `dht-manager --state` does.
   */
  readonly saved = new Mirror();

  constructor(private readonly opts: WorldOptions) {
    this.network = new Network(opts.faults, opts.latency ?? 'lan', forkRandom(opts.seed, 'network'), forkRandom(opts.seed, 'links'));
    this.loadRandom = forkRandom(opts.seed, 'load');
    this.hash = opts.digest ? createHash('sha256') : null;
    // core and interp are filled in by startManager (and again by each restart).
    this.mgr = { name: 'manager', prints: [], exitCode: null, armed: undefined, life: 0 } as unknown as SimManager;
    this.startManager();
  }

  /** The manager's current core (a new one after a restart). */
  get manager(): ManagerCore {
    return this.mgr.core;
  }

  get managerPrints(): string[] {
    return this.mgr.prints;
  }

  get managerAlive(): boolean {
    return this.mgr.exitCode === null;
  }

  /** A peer; `datasets` overrides the world's (e.g. a peer whose data directory lacks the file). */
  addPeer(name: string, mport: number, pport: number, datasets = this.opts.datasets): SimPeer {
    // core and interp are filled in by startPeer (and again by each restart).
    const peer = { name, m: { ip: '127.0.0.1', port: mport }, p: { ip: '127.0.0.1', port: pport }, prints: [], exitCode: null, armed: undefined, life: 0, datasets } as unknown as SimPeer;
    this.peers.set(name, peer);
    this.startPeer(peer);
    return peer;
  }

  /** The process dies: its sockets vanish and it does not run again unless restarted (exit code -9, as for SIGKILL). */
  kill(name: string): void {
    const proc = this.proc(name);
    if (this.opts.verbose) this.echo(`${this.stamp()} [${name}] *** killed`);
    proc.exitCode = -9;
    proc.life += 1;
    proc.armed = undefined;
    void proc.observer?.close?.();
    this.unbind(name);
  }

  /** A fresh process under the same name, address and ports: a new core that knows nothing. */
  restart(name: string): void {
    const proc = this.proc(name);
    if (proc.exitCode === null) this.kill(name);
    if (this.opts.verbose) this.echo(`${this.stamp()} [${name}] *** restarted`);
    proc.exitCode = null;
    proc.life += 1;
    proc.armed = undefined;
    if (name === 'manager') this.startManager();
    else this.startPeer(proc as SimPeer);
  }

  isAlive(name: string): boolean {
    return this.proc(name).exitCode === null;
  }

  /** A person types a line into a peer's (or the manager's) console. */
  type(node: string, text: string): void {
    if (this.opts.verbose) this.echo(`${this.stamp()} [${node}] > ${text}`);
    this.schedule({ at: this.now, seq: 0, kind: 'line', node, text });
  }

  /** Run `run` at now + ms (a fault's end, a restart): in order with everything else. */
  after(ms: number, run: () => void): void {
    this.schedule({ at: this.now + ms, seq: 0, kind: 'call', node: null, life: 0, run });
  }

  /** Run events until `done()` holds; false if the event or time bound is hit first. */
  runUntil(done: () => boolean, maxMs = 600_000, maxEvents = 5_000_000): boolean {
    const deadline = this.now + maxMs;
    // Bounded twice: by the number of events and by virtual time.
    for (let i = 0; i < maxEvents; i++) {
      if (done()) return true;
      const ev = this.queue.pop();
      if (!ev) return done();
      if (ev.at > deadline) {
        this.queue.push(ev);
        return done();
      }
      this.now = Math.max(this.now, ev.at);
      this.dispatch(ev);
      this.onEvent?.();
    }
    return done();
  }

  /** Let retransmissions and late duplicates play out (bounded in virtual time). */
  settle(ms: number): void {
    const until = this.now + ms;
    this.runUntil(() => false, ms);
    this.now = Math.max(this.now, until);
  }

  /** A digest of every print and every delivered datagram so far: equal digests, equal runs. */
  digest(): string {
    if (!this.hash) throw new Error('sim: this world keeps no digest (WorldOptions.digest)');
    return this.hash.copy().digest('hex').slice(0, 16);
  }

  peer(name: string): SimPeer {
    const p = this.peers.get(name);
    if (!p) throw new Error(`sim: no peer ${name}`);
    return p;
  }

  private proc(name: string): Proc {
    return name === 'manager' ? this.mgr : this.peer(name);
  }

  private startManager(): void {
    const m = this.mgr;
    m.core = new ManagerCore({ ...this.opts.manager, durable: this.opts.stateless !== true }, { random: forkRandom(this.opts.seed, `manager#${m.life}`), secret: seededSecret(forkRandom(this.opts.seed, `manager-secrets#${m.life}`)) });
    m.interp = new Interpreter<ManagerInput>(m.core, this.port(m), this.interpreterOptions(m));
    const key = addrKey(MANAGER_ADDR);
    const holder = this.endpoints.get(key);
    // A peer that registered the manager's own port (a typo) keeps it: the manager cannot bind.
    if (holder && holder.node !== 'manager') throw new Error(`sim: the manager cannot bind ${key}: ${holder.node} holds it`);
    this.endpoints.set(key, { node: 'manager', socket: 'manager' });
    // As the manager's shell does once its socket is bound.
    m.observer?.bound(this.now, { manager: MANAGER_ADDR });
    // A restart takes back the last saved state before serving (PROTOCOL §4.10).
    if (this.saved.applied > 0) m.interp.input({ kind: 'restored', state: JSON.parse(JSON.stringify(this.saved.snapshot())) as unknown, source: 'the saved state' });
  }

  private startPeer(peer: SimPeer): void {
    const env: PeerEnv = { random: forkRandom(this.opts.seed, `peer:${peer.name}#${peer.life}`), secret: seededSecret(forkRandom(this.opts.seed, `peer-secrets:${peer.name}#${peer.life}`)) };
    peer.core = this.opts.makePeerCore ? this.opts.makePeerCore(MANAGER_ADDR, this.opts.peer, env) : new PeerCore(MANAGER_ADDR, this.opts.peer, env);
    peer.interp = new Interpreter<PeerInput>(peer.core, this.port(peer), this.interpreterOptions(peer));
  }

  private interpreterOptions(proc: Proc): { trace: TraceMode; maxPayload: number; guard: false; firstFrag: number; observer?: Observer } {
    proc.observer = this.opts.observe?.(proc.name, this.now);
    // No guard: a core exception fails the seed. Fragment ids start at a seeded random point per life.
    const firstFrag = 1 + Math.floor(forkRandom(this.opts.seed, `frag:${proc.name}#${proc.life}`)() * MAX_FIRST_FRAG);
    return { trace: this.opts.trace ?? 'off', maxPayload: this.opts.wirePayload ?? this.opts.peer.maxPayload, guard: false, firstFrag, ...(proc.observer ? { observer: proc.observer } : {}) };
  }

  /** The simulated I/O of one process life. */
  private port(proc: Proc): Port {
    const life = proc.life;
    const later = (ms: number, run: () => void): void => this.schedule({ at: this.now + ms, seq: 0, kind: 'call', node: proc.name, life, run });
    return {
      now: () => this.now,
      transmit: (socket, to, bytes) => this.transmit(proc.name, socket, to, bytes),
      print: (text) => this.log(proc, text),
      bind: (ip, mport, pport) => {
        const problem = this.bind(proc as SimPeer, ip, mport, pport);
        later(0, () => (proc as SimPeer).interp.input(problem === null ? { kind: 'bound' } : { kind: 'bind-failed', error: problem }));
      },
      unbind: () => this.unbind(proc.name),
      load: (year, deliver) => {
        const data = (proc as SimPeer).datasets?.get(year) ?? `details-${year}.csv is not in the data directory`;
        const loaded: Loaded = { kind: 'loaded', year, data };
        later(LOAD_MS[0] + this.loadRandom() * (LOAD_MS[1] - LOAD_MS[0]), () => deliver(loaded));
      },
      processLine: () => null,
      ...(proc.name === 'manager' ? { persist: (change: unknown) => this.persist(change) } : {}),
      exit: (code) => {
        proc.exitCode = code;
        proc.life += 1;
        void proc.observer?.close?.();
        this.unbind(proc.name);
      },
      defer: (run) => later(0, run),
      arm: (deadline) => {
        if (deadline === undefined || deadline === proc.armed) return;
        proc.armed = deadline;
        this.schedule({ at: Math.max(deadline, this.now), seq: 0, kind: 'timer', node: proc.name, life, deadline });
      },
    };
  }

  /** The manager's journal: a change that does not check out is a bug (it fails the seed). */
  private persist(change: unknown): void {
    const r = this.saved.apply(JSON.parse(JSON.stringify(change)) as unknown);
    if (!r.ok) throw new Error(`sim: the manager persisted a bad change: ${r.why}`);
  }

  private dispatch(ev: Event): void {
    switch (ev.kind) {
      case 'datagram': return this.deliver(ev);
      case 'line': {
        const proc = this.proc(ev.node);
        // Typed into a dead process: nobody reads it.
        if (proc.exitCode === null) proc.interp.input({ kind: 'line', text: ev.text });
        return;
      }
      case 'timer': {
        const proc = this.proc(ev.node);
        // Only the latest arming fires: an earlier one was superseded (the core asks again after each input).
        if (proc.life !== ev.life || proc.armed !== ev.deadline || proc.exitCode !== null) return;
        proc.armed = undefined;
        return proc.interp.timeout();
      }
      case 'call':
        if (ev.node !== null) {
          const proc = this.proc(ev.node);
          if (proc.life !== ev.life || proc.exitCode !== null) return; // meant for an earlier life
        }
        return ev.run();
    }
  }

  private deliver(ev: Extract<Event, { kind: 'datagram' }>): void {
    const ep = this.endpoints.get(addrKey(ev.to));
    if (!ep) return; // nobody listens there: UDP drops it
    if (this.network.cut(ev.from, ep.node)) {
      this.cut += 1;
      return;
    }
    this.hash?.update(`${this.now}|${addrKey(ev.src)}>${addrKey(ev.to)}|`).update(ev.bytes);
    if (this.opts.verbose) this.echo(`${this.stamp()} ${addrKey(ev.src)} → ${ep.node}: ${ev.bytes.toString('utf8').slice(0, 160)}`);
    const proc = this.proc(ep.node);
    if (proc.exitCode !== null) return;
    proc.interp.receive(ep.socket, ev.src, ev.bytes);
  }

  /** Take the two addresses, or say why not (another process holds one), as bind(2) would. */
  private bind(peer: SimPeer, ip: string, mport: number, pport: number): string | null {
    const m = { ip, port: mport };
    const p = { ip, port: pport };
    for (const a of [m, p]) {
      const holder = this.endpoints.get(addrKey(a));
      if (holder && holder.node !== peer.name) return `${a.ip}:${a.port} is already in use (EADDRINUSE)`;
    }
    this.unbind(peer.name);
    peer.m = m;
    peer.p = p;
    this.endpoints.set(addrKey(m), { node: peer.name, socket: 'm' });
    this.endpoints.set(addrKey(p), { node: peer.name, socket: 'p' });
    return null;
  }

  private unbind(node: string): void {
    if (node === 'manager') {
      this.endpoints.delete(addrKey(MANAGER_ADDR));
      return;
    }
    const peer = this.peer(node);
    for (const a of [peer.m, peer.p]) if (this.endpoints.get(addrKey(a))?.node === node) this.endpoints.delete(addrKey(a));
  }

  /** The faulty network: each datagram may be lost, duplicated, or held back so others overtake it. */
  private transmit(node: string, socket: Socket, to: Addr, bytes: Buffer): void {
    if (bytes.length > this.opts.peer.maxPayload) {
      // Only a single record larger than the budget may exceed it, and the sim data has none.
      throw new Error(`sim: datagram of ${bytes.length} bytes exceeds the maximum payload ${this.opts.peer.maxPayload}`);
    }
    if (this.onSend) for (const m of bytes.toString('latin1').matchAll(/(?:^|\n)\{"t":"([a-z-]+)"/g)) this.onSend(m[1]!);
    const src = socket === 'manager' ? MANAGER_ADDR : socket === 'm' ? this.peer(node).m : this.peer(node).p;
    this.datagrams += 1;
    const dest = this.endpoints.get(addrKey(to))?.node ?? addrKey(to);
    const { delays, lost, duplicated } = this.network.delays(node, dest);
    this.dropped += lost;
    if (duplicated) this.duplicated += 1;
    for (const d of delays) this.schedule({ at: this.now + d, seq: 0, kind: 'datagram', from: node, src, to, bytes });
  }

  private schedule(ev: Event): void {
    ev.seq = this.seq++;
    this.queue.push(ev);
  }

  private log(proc: Proc, text: string): void {
    proc.prints.push(text);
    this.hash?.update(`${this.now}|${proc.name}|${text}\n`);
    if (this.opts.verbose) this.echo(`${this.stamp()} [${proc.name}] ${text}`);
    this.onPrint?.(proc.name, text);
  }

  private echo(line: string): void {
    if (this.opts.echo) this.opts.echo(line);
    else console.log(line);
  }

  private stamp(): string {
    return this.now.toFixed(1).padStart(9);
  }
}
