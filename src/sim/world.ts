// A deterministic world for the real cores: one manager and many peers on an in-memory network
// with a virtual clock and a seeded random source that drops, duplicates, delays and reorders
// datagrams. Every datagram is encoded and decoded exactly as on a socket, so the codec and the
// payload limit are exercised too. Nothing here is a second implementation of the protocol.
import { ManagerCore, type ManagerConfig, type ManagerEffect } from '../manager/core.js';
import { PeerCore, type PeerConfig, type PeerEffect } from '../peer/core.js';
import { Wire } from '../protocol/wire.js';
import type { LineDataset } from '../data/record.js';
import { addrKey, type Addr } from '../reliable/index.js';
import { EventHeap } from './heap.js';
import { forkRandom } from './rng.js';

export interface Faults {
  loss: number;
  dup: number;
  reorder: number;
}

export interface WorldOptions {
  seed: number;
  faults: Faults;
  manager: ManagerConfig;
  peer: PeerConfig;
  datasets: Map<number, LineDataset>;
  /** Echo every print and datagram, for replaying a failing seed. */
  verbose?: boolean;
}

type Event =
  | { at: number; seq: number; kind: 'datagram'; from: Addr; to: Addr; bytes: Buffer }
  | { at: number; seq: number; kind: 'timer'; node: string }
  | { at: number; seq: number; kind: 'line'; node: string; text: string }
  | { at: number; seq: number; kind: 'bound'; node: string }
  | { at: number; seq: number; kind: 'loaded'; node: string; year: number };

export interface SimPeer {
  name: string;
  core: PeerCore;
  m: Addr;
  p: Addr;
  prints: string[];
  exitCode: number | null;
  armed: number | undefined;
}

export const MANAGER_ADDR: Addr = { ip: '127.0.0.1', port: 4000 };
const BASE_DELAY_MS = 0.2;
const REORDER_DELAY_MS = 20;
/** Virtual time a peer takes to read a year's file. */
const LOAD_DELAY_MS = 1;

export class World {
  now = 0;
  readonly manager: ManagerCore;
  readonly managerPrints: string[] = [];
  readonly peers = new Map<string, SimPeer>();
  datagrams = 0;
  dropped = 0;
  duplicated = 0;
  private managerArmed: number | undefined;
  private readonly queue = new EventHeap<Event>();
  private seq = 0;
  private readonly endpoints = new Map<string, { node: string; via: 'm' | 'p' | 'manager' }>();
  private readonly netRandom: () => number;
  private readonly wires = new Map<string, Wire>();
  private readonly peerData = new Map<string, Map<number, LineDataset>>();

  constructor(private readonly opts: WorldOptions) {
    this.netRandom = forkRandom(opts.seed, 'network');
    this.manager = new ManagerCore(opts.manager, { random: forkRandom(opts.seed, 'manager') });
    this.endpoints.set(addrKey(MANAGER_ADDR), { node: 'manager', via: 'manager' });
  }

  /** A peer; `datasets` overrides the world's (e.g. a peer whose data directory lacks the file). */
  addPeer(name: string, mport: number, pport: number, datasets = this.opts.datasets): SimPeer {
    const core = new PeerCore(MANAGER_ADDR, this.opts.peer, { random: forkRandom(this.opts.seed, `peer:${name}`) });
    this.peerData.set(name, datasets);
    const peer: SimPeer = { name, core, m: { ip: '127.0.0.1', port: mport }, p: { ip: '127.0.0.1', port: pport }, prints: [], exitCode: null, armed: undefined };
    this.peers.set(name, peer);
    return peer;
  }

  /** The process dies: its sockets vanish and it never runs again (exit code -9, as for SIGKILL). */
  kill(name: string): void {
    const peer = this.peer(name);
    peer.exitCode = -9;
    this.unbind(peer);
  }

  /** A person types a line into a peer's (or the manager's) console. */
  type(node: string, text: string): void {
    if (this.opts.verbose) console.log(`${this.now.toFixed(1).padStart(9)} [${node}] > ${text}`);
    this.schedule({ at: this.now, seq: 0, kind: 'line', node, text });
  }

  /** Run events until `done()` holds; false if the event or time bound is hit first. */
  runUntil(done: () => boolean, maxMs = 600_000, maxEvents = 5_000_000): boolean {
    const deadline = this.now + maxMs;
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
    }
    return done();
  }

  /** Let retransmissions and late duplicates play out (bounded in virtual time). */
  settle(ms: number): void {
    const until = this.now + ms;
    this.runUntil(() => false, ms);
    this.now = Math.max(this.now, until);
  }

  private dispatch(ev: Event): void {
    switch (ev.kind) {
      case 'datagram': return this.deliver(ev.from, ev.to, ev.bytes);
      case 'line':
        if (ev.node === 'manager') return this.applyManager(this.manager.handle(this.now, { kind: 'line', text: ev.text }));
        return this.applyPeer(this.peer(ev.node), this.peer(ev.node).core.handle(this.now, { kind: 'line', text: ev.text }));
      case 'bound': if (this.peer(ev.node).exitCode !== null) return;
        return this.applyPeer(this.peer(ev.node), this.peer(ev.node).core.handle(this.now, { kind: 'bound' }));
      case 'timer': return this.fireTimer(ev.node, ev.at);
      case 'loaded': {
        const peer = this.peer(ev.node);
        if (peer.exitCode !== null) return;
        const data = this.peerData.get(ev.node)?.get(ev.year) ?? `details-${ev.year}.csv is not in the data directory`;
        return this.applyPeer(peer, peer.core.handle(this.now, { kind: 'loaded', year: ev.year, data }));
      }
    }
  }

  private fireTimer(node: string, at: number): void {
    if (node === 'manager') {
      if (this.managerArmed !== at) return;
      this.managerArmed = undefined;
      return this.applyManager(this.manager.onTimeout(this.now));
    }
    const peer = this.peer(node);
    if (peer.armed !== at || peer.exitCode !== null) return;
    peer.armed = undefined;
    this.applyPeer(peer, peer.core.onTimeout(this.now));
  }

  private deliver(from: Addr, to: Addr, bytes: Buffer): void {
    const ep = this.endpoints.get(addrKey(to));
    if (!ep) return;
    const decoded = this.wireOf(ep.node).receive(from, bytes);
    if (decoded.ok === 'partial') return;
    if (!decoded.ok) throw new Error(`sim: a core sent an undecodable datagram to ${addrKey(to)}: ${decoded.reason}`);
    if (this.opts.verbose) console.log(`${this.now.toFixed(1).padStart(9)} ${addrKey(from)} → ${ep.node}: ${bytes.toString('utf8').slice(0, 160)}`);
    if (ep.via === 'manager') return this.applyManager(this.manager.handle(this.now, { kind: 'datagram', from, msg: decoded.msg }));
    const peer = this.peer(ep.node);
    if (peer.exitCode !== null) return;
    this.applyPeer(peer, peer.core.handle(this.now, { kind: 'datagram', via: ep.via, from, msg: decoded.msg }));
  }

  private applyManager(effects: ManagerEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'send') for (const b of this.wireOf('manager').datagrams(e.msg)) this.transmit(MANAGER_ADDR, e.to, b);
      else if (e.kind === 'print') this.log('manager', this.managerPrints, e.text);
    }
    const d = this.manager.nextDeadline();
    if (d !== undefined && d !== this.managerArmed) {
      this.managerArmed = d;
      this.schedule({ at: Math.max(d, this.now), seq: 0, kind: 'timer', node: 'manager' });
    }
  }

  private applyPeer(peer: SimPeer, effects: PeerEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send': for (const b of this.wireOf(peer.name).datagrams(e.msg)) this.transmit(e.via === 'm' ? peer.m : peer.p, e.to, b); break;
        case 'print': this.log(peer.name, peer.prints, e.text); break;
        case 'bind': this.bind(peer, e.mport, e.pport); break;
        case 'unbind': this.unbind(peer); break;
        case 'load': this.schedule({ at: this.now + LOAD_DELAY_MS, seq: 0, kind: 'loaded', node: peer.name, year: e.year }); break;
        case 'note': case 'process-status': break;
        case 'exit': peer.exitCode = e.code; this.unbind(peer); return;
      }
    }
    const d = peer.core.nextDeadline();
    if (d !== undefined && d !== peer.armed) {
      peer.armed = d;
      this.schedule({ at: Math.max(d, this.now), seq: 0, kind: 'timer', node: peer.name });
    }
  }

  private bind(peer: SimPeer, mport: number, pport: number): void {
    peer.m = { ip: '127.0.0.1', port: mport };
    peer.p = { ip: '127.0.0.1', port: pport };
    this.endpoints.set(addrKey(peer.m), { node: peer.name, via: 'm' });
    this.endpoints.set(addrKey(peer.p), { node: peer.name, via: 'p' });
    this.schedule({ at: this.now, seq: 0, kind: 'bound', node: peer.name });
  }

  private unbind(peer: SimPeer): void {
    this.endpoints.delete(addrKey(peer.m));
    this.endpoints.delete(addrKey(peer.p));
  }

  /** The faulty network: each datagram may be lost, duplicated, or held back so others overtake it. */
  private transmit(from: Addr, to: Addr, bytes: Buffer): void {
    if (bytes.length > this.opts.peer.maxPayload) {
      // Only a single record larger than the budget may exceed it, and the sim data has none.
      throw new Error(`sim: datagram of ${bytes.length} bytes exceeds the maximum payload ${this.opts.peer.maxPayload}`);
    }
    this.datagrams += 1;
    const f = this.opts.faults;
    const copies = this.netRandom() < f.dup ? 2 : 1;
    if (copies === 2) this.duplicated += 1;
    for (let c = 0; c < copies; c++) {
      if (this.netRandom() < f.loss) {
        this.dropped += 1;
        continue;
      }
      const extra = this.netRandom() < f.reorder ? this.netRandom() * REORDER_DELAY_MS : 0;
      this.schedule({ at: this.now + BASE_DELAY_MS + this.netRandom() * BASE_DELAY_MS + extra, seq: 0, kind: 'datagram', from, to, bytes });
    }
  }

  private schedule(ev: Event): void {
    ev.seq = this.seq++;
    this.queue.push(ev);
  }

  private log(node: string, into: string[], text: string): void {
    into.push(text);
    if (this.opts.verbose) console.log(`${this.now.toFixed(1).padStart(9)} [${node}] ${text}`);
  }

  /** Each node has its own fragmenter and reassembler, as each process does. */
  private wireOf(node: string): Wire {
    let w = this.wires.get(node);
    if (!w) this.wires.set(node, (w = new Wire(this.opts.peer.maxPayload)));
    return w;
  }

  peer(name: string): SimPeer {
    const p = this.peers.get(name);
    if (!p) throw new Error(`sim: no peer ${name}`);
    return p;
  }
}
