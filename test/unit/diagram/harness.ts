// Real event logs without the shells: the manager and peer cores driven by a tiny in-memory
// network on a virtual clock, every datagram encoded and fragmented by protocol/wire.ts, and every
// send, receive, console line, print, state change and timer logged with EventLog as a shell
// does. Deliberately small (no randomness, faults by counting) so that it is easy to adapt when
// the cores change their inputs (e.g. the coming `load` effect answered by a `loaded` input).
import { join } from 'node:path';
import { ManagerCore, type ManagerEffect } from '../../../src/manager/core.js';
import { PeerCore, type PeerEffect } from '../../../src/peer/core.js';
import { Wire } from '../../../src/protocol/wire.js';
import { DEFAULT_MAX_PAYLOAD } from '../../../src/protocol/codec.js';
import { addrKey, type Addr, type RetryPolicy } from '../../../src/reliable/index.js';
import type { LineDataset } from '../../../src/data/record.js';
import { EventLog } from '../../../src/eventlog/index.js';
import { seededSecret } from '../../../src/protocol/secrets.js';

export interface HarnessOptions {
  dir: string;
  data: LineDataset;
  /** Added to a process's clock in its log only: hosts whose clocks disagree. */
  skewMs?: Record<string, number>;
  /** Payload limit of the wire: small values cut messages into fragments. */
  wirePayload?: number;
  /** Every k-th datagram is delivered twice / lost. */
  dupEvery?: number;
  loseEvery?: number;
  /** The manager's socket as its log names it: 0.0.0.0 for one listening on every interface. */
  managerLogAddr?: Addr;
}

interface Proc {
  name: string;
  manager?: ManagerCore;
  peer?: PeerCore;
  sockets: Record<string, Addr>;
  wire: Wire;
  log: EventLog;
  file: string;
  prints: string[];
  armed?: number;
}

type Ev = { at: number; seq: number } & (
  | { kind: 'datagram'; from: Addr; to: Addr; bytes: Buffer }
  | { kind: 'timer' | 'bound'; proc: string }
  | { kind: 'line'; proc: string; text: string });

export const MANAGER_ADDR: Addr = { ip: '127.0.0.1', port: 4000 };
const RETRY: RetryPolicy = { rtoMs: 50, minRtoMs: 20, maxRtoMs: 400, maxTries: 20 };
const LATENCY_MS = 0.3;

export class Harness {
  now = 0;
  datagrams = 0;
  readonly procs = new Map<string, Proc>();
  private readonly queue: Ev[] = [];
  private seq = 0;
  private readonly endpoints = new Map<string, { proc: string; via: string }>();

  get year(): number {
    return this.opts.data.year;
  }

  constructor(private readonly opts: HarnessOptions) {
    const manager = new ManagerCore({ waitTimeoutMs: 60_000, retry: RETRY }, { random: seeded(1), secret: seededSecret(seeded(2)) });
    this.add('manager', { manager }, { manager: MANAGER_ADDR }, opts.managerLogAddr && { manager: opts.managerLogAddr });
  }

  addPeer(name: string): void {
    const data = this.opts.data;
    const peer = new PeerCore(MANAGER_ADDR, { retry: RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 30_000 }, {
      random: seeded(name.length * 7919 + name.charCodeAt(name.length - 1)),
      secret: seededSecret(seeded(name.length * 7919 + name.charCodeAt(name.length - 1) + 1)),
      checkData: (year) => (year === data.year ? null : `details-${year}.csv is not in the data directory`),
      loadData: (year) => (year === data.year ? data : `details-${year}.csv is not in the data directory`),
    });
    this.add(name, { peer }, {});
  }

  /** A person types a line; returns once the process's console is idle and `expect` was printed. */
  command(proc: string, text: string, expect: string, maxMs = 60_000): void {
    const p = this.proc(proc);
    const from = p.prints.length;
    this.push({ at: this.now, seq: 0, kind: 'line', proc, text });
    const ok = this.runUntil(() => (p.peer?.idle ?? true) && p.prints.slice(from).some((l) => l.startsWith(expect)), maxMs);
    if (!ok) throw new Error(`harness: '${text}' at ${proc} did not print '${expect}': ${p.prints.slice(from).slice(-5).join(' | ')}`);
  }

  /** Let retransmissions and delayed acks play out. */
  settle(ms: number): void {
    this.runUntil(() => false, ms);
  }

  runUntil(done: () => boolean, maxMs: number, maxEvents = 1_000_000): boolean {
    const deadline = this.now + maxMs;
    for (let i = 0; i < maxEvents && !done(); i++) {
      const ev = this.queue[0];
      if (!ev || ev.at > deadline) return done();
      this.queue.shift();
      this.now = Math.max(this.now, ev.at);
      this.dispatch(ev);
    }
    return done();
  }

  /** Closes every log; returns the files, manager first. */
  async close(): Promise<string[]> {
    for (const p of this.procs.values()) await p.log.close();
    return [...this.procs.values()].map((p) => p.file);
  }

  proc(name: string): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`harness: no process ${name}`);
    return p;
  }

  private add(name: string, core: Pick<Proc, 'manager' | 'peer'>, sockets: Record<string, Addr>, logged = sockets): void {
    const file = join(this.opts.dir, `${name}.log`);
    const log = new EventLog({ file, proc: name, now: this.clock(name), sockets: logged });
    const p: Proc = { name, ...core, sockets, wire: new Wire(this.opts.wirePayload ?? DEFAULT_MAX_PAYLOAD), log, file, prints: [] };
    this.procs.set(name, p);
    for (const [via, a] of Object.entries(sockets)) this.endpoints.set(addrKey(a), { proc: name, via });
  }

  /** The time a process's log sees: the virtual clock plus that host's skew. */
  private clock(name: string): number {
    return this.now + (this.opts.skewMs?.[name] ?? 0);
  }

  private dispatch(ev: Ev): void {
    if (ev.kind === 'datagram') return this.deliver(ev.from, ev.to, ev.bytes);
    const p = this.proc(ev.proc);
    const t = this.clock(p.name);
    if (ev.kind === 'line') {
      p.log.console(t, ev.text);
      this.apply(p, p.manager ? p.manager.handle(this.now, { kind: 'line', text: ev.text }) : p.peer!.handle(this.now, { kind: 'line', text: ev.text }));
    } else if (ev.kind === 'bound') this.apply(p, p.peer!.handle(this.now, { kind: 'bound' }));
    else if (p.armed === ev.at) {
      p.armed = undefined;
      p.log.timer(t);
      this.apply(p, p.manager ? p.manager.onTimeout(this.now) : p.peer!.onTimeout(this.now));
    }
  }

  private deliver(from: Addr, to: Addr, bytes: Buffer): void {
    const ep = this.endpoints.get(addrKey(to));
    if (!ep) return;
    const p = this.proc(ep.proc);
    const got = p.wire.receive(from, bytes);
    if (got.ok === 'partial') return;
    if (!got.ok) throw new Error(`harness: undecodable datagram to ${ep.proc}: ${got.reason}`);
    const effects: (ManagerEffect | PeerEffect)[] = p.manager
      ? p.manager.handle(this.now, { kind: 'datagram', from, msg: got.msg })
      : p.peer!.handle(this.now, { kind: 'datagram', via: ep.via as 'm' | 'p', from, msg: got.msg });
    const note = effects.find((e): e is Extract<PeerEffect, { kind: 'note' }> => e.kind === 'note')?.verdict;
    // As the shells do: the receive is recorded after the core has seen it, before its effects.
    p.log.receive(this.clock(p.name), from, got.msg, bytes, note, ep.via);
    this.apply(p, effects);
  }

  private apply(p: Proc, effects: (ManagerEffect | PeerEffect)[]): void {
    const t = this.clock(p.name);
    for (const e of effects) {
      if (e.kind === 'send') {
        const via = 'via' in e && e.via !== undefined ? e.via : 'manager';
        const datagrams = p.wire.datagrams(e.msg);
        p.log.send(t, e.to, e.msg, datagrams, e.attempt, via);
        for (const b of datagrams) this.transmit(p.sockets[via]!, e.to, b);
      } else if (e.kind === 'print') {
        p.prints.push(e.text);
        p.log.print(t, e.text);
      } else if (e.kind === 'bind') this.bind(p, e.ip, e.mport, e.pport);
      else if (e.kind === 'unbind' || e.kind === 'exit') {
        p.log.state(t, e.kind === 'exit' ? `exit ${e.code}` : 'unbound');
        for (const a of Object.values(p.sockets)) this.endpoints.delete(addrKey(a));
      }
    }
    const d = p.manager ? p.manager.nextDeadline() : p.peer!.nextDeadline();
    if (d !== undefined && d !== p.armed) {
      p.armed = d;
      this.push({ at: Math.max(d, this.now), seq: 0, kind: 'timer', proc: p.name });
    }
  }

  private bind(p: Proc, ip: string, mport: number, pport: number): void {
    p.sockets = { m: { ip, port: mport }, p: { ip, port: pport } };
    for (const [via, a] of Object.entries(p.sockets)) this.endpoints.set(addrKey(a), { proc: p.name, via });
    p.log.bound(this.clock(p.name), p.sockets);
    this.push({ at: this.now, seq: 0, kind: 'bound', proc: p.name });
  }

  private transmit(from: Addr, to: Addr, bytes: Buffer): void {
    this.datagrams += 1;
    const { dupEvery, loseEvery } = this.opts;
    if (loseEvery && this.datagrams % loseEvery === 0) return;
    const copies = dupEvery && this.datagrams % dupEvery === 0 ? 2 : 1;
    for (let c = 0; c < copies; c++) this.push({ at: this.now + LATENCY_MS * (1 + c), seq: 0, kind: 'datagram', from, to, bytes });
  }

  /** Into the queue, ordered by time then by arrival (a sorted array: runs here are small). */
  private push(ev: Ev): void {
    ev.seq = this.seq++;
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.at < ev.at || (q.at === ev.at && q.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }
}

/** A small deterministic random source (mulberry32), so every run logs the same events. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The milestone (SPEC §6): three peers register, peer1 sets up a DHT of 3 for the data's year. */
export function milestone(h: Harness): void {
  for (let i = 1; i <= 3; i++) {
    h.addPeer(`peer${i}`);
    h.command(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`, 'register: SUCCESS');
  }
  h.command('peer1', `setup-dht peer1 3 ${h.year}`, 'dht-complete: SUCCESS');
  h.settle(2_000);
}
