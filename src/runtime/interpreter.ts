// The one effect interpreter (runtime/effects.ts): it hands inputs to a pure core and carries out
// the effects the core returns, in order, then arms the timer for the core's next deadline. The
// programs (net/peer-shell.ts, net/manager-shell.ts) and the simulation (sim/world.ts) share it
// and differ only in the `Port` they plug in: real sockets, stdout and files, or the simulated
// network, console and clock. Encoding, fragments, the datagram trace and rate-limited complaints
// live here, so the simulation exercises exactly what the programs run.
import type { Effect, Loaded, Via } from './effects.js';
import { InvariantError } from './assert.js';
import type { Message } from '../protocol/messages.js';
import { Wire, type LocalPath } from '../protocol/wire.js';
import type { Addr } from '../reliable/index.js';
import { Complaints } from '../console/ratelimit.js';
import { traceLine, traced } from '../net/trace.js';
import type { TraceMode } from '../net/usage.js';
import type { Observer } from './observer.js';
import { isPack, packable, unpack } from '../protocol/pack.js';
import { Coalescer } from './coalesce.js';

/**
 * What the interpreter needs of a core. Method syntax on purpose: `handle` is checked
 * bivariantly, so a core whose input type does not list `Loaded` yet (it never emits `load`)
 * still plugs in.
 */
export interface Core<I> {
  handle(now: number, input: I): readonly Effect[];
  onTimeout(now: number): readonly Effect[];
  nextDeadline(): number | undefined;
  nameOf(addr: Addr): string | undefined;
}

/** The socket a datagram leaves by or came in on: a peer's m-port or p-port, or the manager's one. */
export type Socket = Via | 'manager';

/**
 * Datagram and byte counts, for `status` (and the benchmark, which reads them from it), and the
 * messages they carried: more than datagrams when several shared one (protocol/pack.ts).
 */
export interface Traffic { sent: number; sentBytes: number; received: number; receivedBytes: number; sentMessages: number; receivedMessages: number }

/** The I/O a shell or the simulation plugs in. Nothing here calls back into the core synchronously. */
export interface Port {
  /** Monotonic milliseconds: the `now` every core call gets. */
  now(): number;
  /** One datagram out (the interpreter has traced, encoded and fragmented the message). */
  transmit(socket: Socket, to: Addr, bytes: Buffer): void;
  print(text: string): void;
  /** Bind the two sockets; the answer comes later as the input `bound` or `bind-failed`. */
  bind(ip: string, mport: number, pport: number): void;
  unbind(): void;
  /** Fetch the year's data and call `deliver` later (another tick, or simulated latency): never now. */
  load(year: number, deliver: (loaded: Loaded) => void): void;
  /** The process line `status` adds after the core's lines, or null for none. */
  processLine(traffic: Traffic): string | null;
  exit(code: number): void;
  /** Fire `timeout()` at this time (undefined: nothing is due). Called after every input. */
  arm(deadline: number | undefined): void;
  /** After every input's effects: e.g. back-pressure on the console. */
  settled?(): void;
  /**
   * Call `run` once the current turn ends: after the datagrams and events already due are handled
   * (the shells: the next immediate; the simulation: after the events of the same instant), not
   * on a timer: nothing waits beyond its turn. The interpreter sends the turn's queued messages then, several to one
   * destination in one datagram (runtime/coalesce.ts). Absent: each input's sends leave at its end.
   */
  defer?(run: () => void): void;
  /**
   * Make a `persist` change durable before returning (the manager's --state journal); throws
   * with a one-line reason when it cannot. Absent: `persist` is a no-op.
   */
  persist?(change: unknown): void;
}

export interface InterpreterOptions {
  trace: TraceMode;
  /** Largest datagram; bigger messages travel as fragments (protocol/wire.ts). */
  maxPayload: number;
  /**
   * The programs guard: a core exception is reported in one line and the event dropped, so a
   * bug cannot kill a process holding part of a DHT. The simulation does not: an exception (an
   * InvariantError above all) propagates and fails the seed.
   */
  guard: boolean;
  /** Told of every event (the event log, the live view); none by default. */
  observer?: Observer;
  /**
   * Where this process's fragment ids start (protocol/wire.ts): random, so that a process started
   * again on the same ports never reuses its previous life's ids. The shells draw it; the
   * simulation seeds it.
   */
  firstFrag?: number;
  /** Store batches to processes of this machine may be larger (protocol/wire.ts); none by default. */
  local?: LocalPath;
  /**
   * Several messages to one destination in one turn share a datagram (protocol/pack.ts). On by
   * default; `false` (the programs with DHT_PACK=0, for A/B measurements) sends each message alone.
   */
  pack?: boolean;
}

/** Names kept for the trace after the core forgot them (a deregistered peer's answer is still named). */
const MAX_NAMES = 4096;

export class Interpreter<I extends { kind: string }> {
  readonly traffic: Traffic = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, sentMessages: 0, receivedMessages: 0 };
  private readonly wire: Wire;
  private readonly queue: Coalescer<Socket>;
  /** A deferred flush of `queue` is scheduled. */
  private flushing = false;
  private readonly flushNow = (): void => {
    this.flushing = false;
    this.queue.flush();
  };
  private readonly complaints = new Complaints();
  private readonly names = new Map<string, string>();
  private exited = false;
  /** True while effects are carried out: a `load` answered now would re-enter the core. */
  private applying = false;
  /** The last bind asked for: the observer learns the addresses when it succeeds. */
  private binding: Extract<Effect, { kind: 'bind' }> | null = null;
  private readonly observer: Observer | undefined;

  constructor(readonly core: Core<I | Loaded>, private readonly port: Port, private readonly options: InterpreterOptions) {
    this.wire = new Wire(options.maxPayload, options.firstFrag, options.local);
    this.observer = options.observer;
    this.queue = new Coalescer<Socket>(options.maxPayload, (socket, to, bytes) => this.transmit(socket, to, bytes));
  }

  /** The core asked to exit: the process is gone, every later input is ignored. */
  /** Entries of its bounded structures (partial fragments, trace names, complaint kinds): for the soak test. */
  footprint(): Record<string, number> {
    const w = this.wire.held();
    return { partials: w.partials, partialBytes: w.bytes, names: this.names.size, complaintKinds: this.complaints.kinds };
  }

  get isExited(): boolean {
    return this.exited;
  }

  /** A console line, a bind result or loaded data. */
  input(input: I | Loaded): void {
    if (this.exited) return;
    if (this.observer) this.observe(input);
    const what = input.kind === 'line' ? 'a console line' : input.kind;
    this.apply(this.step(what, () => this.core.handle(this.port.now(), input)));
  }

  timeout(): void {
    if (this.exited) return;
    this.observer?.timer(this.port.now());
    // A timer is a turn of its own (acks, resends): its sends leave now, unless a flush of this
    // turn is still to come (the acks of datagrams just handled then share their datagrams).
    this.apply(this.step('a timeout', () => this.core.onTimeout(this.port.now())), false);
  }

  /**
   * A datagram on one of the sockets: reassembled and decoded, handed to the core, traced, and
   * its effects carried out. The trace line is made after the core has seen the message, so a
   * sender it introduces (set-id, join) is named, but printed before its effects.
   */
  receive(socket: Socket, from: Addr, bytes: Buffer): void {
    if (this.exited) return;
    this.traffic.received += 1;
    this.traffic.receivedBytes += bytes.length;
    if (isPack(bytes)) {
      const pack = unpack(bytes);
      if (!pack.ok) return this.complain(`bad:${from.ip}:${from.port}`, `bad datagram from ${from.ip}:${from.port}: ${pack.reason}`);
      // Each message as if it had come alone; an exit (or a bad line) stops nothing but itself.
      for (const m of pack.msgs) {
        if (this.exited) return;
        if (m.ok) this.handleMessage(socket, from, m.msg, m.bytes);
        else this.complain(`bad:${from.ip}:${from.port}`, `bad datagram from ${from.ip}:${from.port}: ${m.reason}`);
      }
      return;
    }
    const decoded = this.wire.receive(from, bytes, this.port.now());
    if (decoded.ok === 'partial') return;
    if (!decoded.ok) {
      return this.complain(`bad:${from.ip}:${from.port}`, `bad datagram from ${from.ip}:${from.port}: ${decoded.reason}`);
    }
    this.handleMessage(socket, from, decoded.msg, bytes);
  }

  /** One whole message: handed to the core, traced, its effects carried out. */
  private handleMessage(socket: Socket, from: Addr, msg: Message, bytes: Buffer): void {
    this.traffic.receivedMessages += 1;
    // Both cores take {kind:'datagram', from, msg}; the peer also the socket it came in on.
    const input = (socket === 'manager' ? { kind: 'datagram', from, msg } : { kind: 'datagram', via: socket, from, msg }) as unknown as I;
    const effects = this.step(`a ${msg.t} datagram`, () => this.core.handle(this.port.now(), input));
    const note = effects.find((e): e is Extract<Effect, { kind: 'note' }> => e.kind === 'note')?.verdict;
    this.observer?.receive(this.port.now(), from, msg, bytes, note, socket);
    if (traced(this.options.trace, msg)) {
      const name = this.name(from);
      const line = traceLine('received', name, from, msg, 1, note);
      // Datagrams from strangers, or that the core ignored, must not flood the summary trace:
      // they are counted like complaints.
      if ((name === undefined || note === 'ignored') && this.options.trace === 'summary') this.complain(`stranger:${msg.t}`, line);
      else this.port.print(line);
    }
    this.apply(effects);
  }

  /** A rate-limited line: the first of a kind is printed, the rest within a second counted. */
  complain(kind: string, text: string): void {
    const line = this.complaints.note(this.port.now(), kind, text);
    if (line) this.port.print(line);
  }

  private step(what: string, run: () => readonly Effect[]): readonly Effect[] {
    if (!this.options.guard) return run();
    try {
      return run();
    } catch (err) {
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.complain(`internal:${what}`, `internal error while handling ${what}: ${text} (the event was dropped; the process keeps running)`);
      return [];
    }
  }

  /** `defer`: the sends may wait for the end of the turn (all but a timer's, see timeout()). */
  private apply(effects: readonly Effect[], defer = true): void {
    this.applying = true;
    try {
      // Bounded by the core's list; an exit ends it early (the process is gone).
      for (const e of effects) {
        if (this.exited) return;
        switch (e.kind) {
          case 'send': this.send(e.via ?? 'manager', e.to, e.msg, e.attempt); break;
          case 'print':
            this.port.print(e.text);
            this.observer?.print(this.port.now(), e.text);
            break;
          case 'note': break; // read by receive() for the trace line
          case 'bind':
            this.binding = e;
            this.port.bind(e.ip, e.mport, e.pport);
            break;
          case 'unbind':
            this.queue.flush(); // what was sent before goes out by the sockets that are closing
            this.port.unbind();
            break;
          case 'load': this.port.load(e.year, (loaded) => this.loaded(loaded)); break;
          case 'process-status': {
            const line = this.port.processLine(this.traffic);
            if (line !== null) this.port.print(line);
            break;
          }
          case 'persist':
            if (!this.persist(e.change)) return;
            break;
          case 'exit':
            this.queue.flush();
            this.observer?.state(this.port.now(), `exit ${e.code}`);
            this.exited = true;
            this.port.exit(e.code);
            return;
          default: {
            const never: never = e;
            throw new InvariantError(`unknown effect ${JSON.stringify(never)}`);
          }
        }
      }
    } finally {
      this.applying = false;
    }
    // Armed first, so that a timer due now (the delayed acks) runs before the flush and its
    // acks share the turn's datagrams.
    this.port.arm(this.core.nextDeadline());
    if (this.queue.pending && !this.flushing) {
      if (defer && this.port.defer) {
        this.flushing = true;
        this.port.defer(this.flushNow);
      } else this.queue.flush();
    }
    this.port.settled?.();
  }

  /**
   * Carry out `persist`. A state that cannot be made durable ends the process (exit 1) before any
   * answer reporting the change goes out: restarted on the same file, it has the state before.
   */
  private persist(change: unknown): boolean {
    if (!this.port.persist) return true;
    try {
      this.port.persist(change);
      return true;
    } catch (err) {
      if (!this.options.guard) throw err; // the simulation: a bad change fails the seed
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.queue.flush(); // answers of earlier, durable changes; none about this one
      this.port.print(`cannot save the state: ${text}; exiting before any answer reports a change that is not on disk`);
      this.observer?.state(this.port.now(), 'exit 1');
      this.exited = true;
      this.port.exit(1);
      return false;
    }
  }

  /** Inputs other than datagrams, as the observer records them. */
  private observe(input: I | Loaded): void {
    const obs = this.observer;
    if (!obs) return;
    const now = this.port.now();
    const i = input as { kind: string; text?: string; error?: string; year?: number; data?: unknown };
    if (i.kind === 'line') obs.console(now, i.text ?? '');
    else if (i.kind === 'bound' && this.binding) {
      const b = this.binding;
      obs.bound(now, { m: { ip: b.ip, port: b.mport }, p: { ip: b.ip, port: b.pport } }, b.name);
    } else if (i.kind === 'bind-failed') obs.state(now, `bind failed: ${i.error ?? ''}`);
    else if (i.kind === 'loaded') obs.state(now, `loaded ${i.year}${typeof i.data === 'string' ? `: ${i.data}` : ''}`);
  }

  private loaded(loaded: Loaded): void {
    // The contract of `load`: the answer is a later input, never a call inside the handler.
    if (this.applying) throw new InvariantError(`the port answered load ${loaded.year} inside the handler`);
    this.input(loaded);
  }

  private send(socket: Socket, to: Addr, msg: Message, attempt: number): void {
    if (traced(this.options.trace, msg)) {
      const name = this.name(to);
      const line = traceLine('sent', name, to, msg, attempt);
      // Answers to strangers (refused impostor commands) are counted, not each traced, in summary mode.
      if (name === undefined && this.options.trace === 'summary') this.complain(`stranger-out:${msg.t}`, line);
      else this.port.print(line);
    }
    let datagrams: Buffer[];
    try {
      datagrams = this.wire.datagrams(msg, to);
    } catch (err) {
      if (!this.options.guard) throw err;
      // Too large even in fragments: refuse this one message, keep the process.
      return this.complain(`too-large:${msg.t}`, `cannot send ${msg.t} to ${to.ip}:${to.port}: ${(err as Error).message}`);
    }
    this.observer?.send(this.port.now(), to, msg, datagrams, attempt, socket);
    this.traffic.sentMessages += 1;
    const only = datagrams.length === 1 ? datagrams[0]! : null;
    // Queued for the end of the turn, unless it must travel alone (a store frame, fragments, a
    // store batch larger than the payload limit on a local path): then what waits for the same
    // destination goes first, so that each destination still gets its messages in order.
    if (only && only.length <= this.options.maxPayload && packable(msg.t) && this.options.pack !== false) return this.queue.add(socket, to, only);
    this.queue.flushTo(socket, to);
    for (const bytes of datagrams) this.transmit(socket, to, bytes);
  }

  private transmit(socket: Socket, to: Addr, bytes: Buffer): void {
    this.traffic.sent += 1;
    this.traffic.sentBytes += bytes.length;
    this.port.transmit(socket, to, bytes);
  }

  /** The core's name for an address, or the last name it had. */
  private name(addr: Addr): string | undefined {
    const key = `${addr.ip}:${addr.port}`;
    const known = this.core.nameOf(addr);
    if (known === undefined) return this.names.get(key);
    if (this.names.size >= MAX_NAMES) this.names.clear(); // bounded: only a trace nicety
    this.names.set(key, known);
    return known;
  }
}
