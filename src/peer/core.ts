// The peer as a pure state machine. Inputs: a console line, a datagram (on the m-port or the
// p-port), the result of binding its sockets or of loading a year's file, a timeout. Outputs:
// effects for the shell. No socket, clock, file or random source inside: `now` comes with each
// call, random numbers through `env`, data as `load` effects answered by `loaded` inputs. The
// same code runs over real UDP and in the simulation.
//
// State: one union (state.ts) plus at most one operation (operation.ts), each operation an
// object with phases in its own file; accepts.ts says which message each state takes.
import type { Message, MessageOf, PeerMessage, Tuple } from '../protocol/messages.js';
import { isManagerRequest, type ManagerRequest } from '../protocol/requests.js';
import { addrKey, type Addr, type Pending } from '../reliable/index.js';
import { sameSecret } from '../protocol/secrets.js';
import { PEER_COMMANDS, helpText, parseLine, type PeerCommand } from '../console/commands.js';
import type { Loaded, Via } from '../runtime/effects.js';
import { assert } from '../runtime/assert.js';
import { LocalTable } from './table.js';
import { PeerContext, type Numbered, type PeerConfig, type PeerEffect, type PeerEnv, type Tag } from './context.js';
import { ManagerLink, responseLine } from './manager-link.js';
import { assertRing, meOf, type Me, type Member, type PeerState, type Ring } from './state.js';
import type { Host, Operation, Res } from './operation.js';
import { refusal, stateName } from './accepts.js';
import { START, RESPONSES } from './commands.js';
import { onFindEvent, onHopLost } from './query.js';
import { dropRelay, onJoin, onRebuildDht, onResetId, onSetId, onStore, onStoreEnd, onStoreFailed, onTeardown } from './member.js';
import { StoreStream, currentStream, onStreamFailed } from './store.js';
import { statusLine, namingProblem } from './status.js';
import { applyNotice, noticeGate, queryGate, ringGate } from './gate.js';
import { Heartbeat } from './heartbeat.js';
import { Probes, isLivenessMessage } from './probes.js';

/** What belongs on the m-port (the manager's messages and the liveness ones), never on the p-port. */
const M_PORT_ONLY: ReadonlySet<Message['t']> = new Set(['cmd', 'res', 'dissolved', 'dht-notice', 'join-notice', 'repair', 'alive', 'probe', 'ping-req', 'ping', 'pong']);
const mPortOnly = (msg: Message): msg is Exclude<Message, PeerMessage> => M_PORT_ONLY.has(msg.t);

export type { PeerConfig, PeerEnv, PeerEffect } from './context.js';
export type { Me, Ring } from './state.js';
export type { Via } from '../runtime/effects.js';

export type PeerInput =
  | { kind: 'line'; text: string }
  | { kind: 'datagram'; via: Via; from: Addr; msg: Message }
  | { kind: 'bound' }
  | { kind: 'bind-failed'; error: string }
  | Loaded;

/** Console lines waiting for their turn (the shell stops reading stdin while there are many). */
const MAX_QUEUED_LINES = 100_000;

type Handler<T extends PeerMessage['t']> = (host: Host, from: Addr, msg: MessageOf<T>) => string | null;

/** Each reliable peer message's handler: null if taken, else why it was ignored. */
const HANDLERS: { [T in Exclude<PeerMessage['t'], 'find-event' | 'event-result'>]: Handler<T> } = {
  'set-id': onSetId,
  store: onStore,
  'store-end': onStoreEnd,
  'store-failed': onStoreFailed,
  teardown: onTeardown,
  'reset-id': onResetId,
  'rebuild-dht': onRebuildDht,
  'rebuild-done': (host, from, m) => {
    const op = host.op;
    return op?.kind === 'leave' || op?.kind === 'join' ? op.onRebuildDone(host, from, m) : 'no leave or join of this peer is pending';
  },
  join: onJoin,
};

export class PeerCore implements Host {
  readonly table = new LocalTable();
  state: PeerState = { kind: 'unregistered' };
  op: Operation | null = null;
  readonly ctx: PeerContext;
  /** `alive` to the manager while registered, when the manager asked for it (PROTOCOL §4.11). */
  readonly heartbeat = new Heartbeat();
  private readonly probes: Probes;
  private readonly link: ManagerLink;
  private readonly lines: string[] = [];

  constructor(readonly manager: Addr, config: PeerConfig, env: PeerEnv) {
    this.ctx = new PeerContext(manager, config, env);
    this.link = new ManagerLink(this.ctx);
    this.probes = new Probes(this.ctx);
  }

  get me(): Me | null {
    return meOf(this.state);
  }

  get ring(): Ring | null {
    return this.state.kind === 'member' ? this.state.ring : null;
  }

  handle(now: number, input: PeerInput): PeerEffect[] {
    this.ctx.begin(now);
    switch (input.kind) {
      case 'line': this.onLine(input.text); break;
      case 'datagram': this.onDatagram(input.via, input.from, input.msg); break;
      case 'bound': if (this.op?.kind === 'register' && this.op.phase === 'binding') this.op.onBound(this); break;
      case 'bind-failed': if (this.op?.kind === 'register' && this.op.phase === 'binding') this.op.onBindFailed(this, input.error); break;
      case 'loaded': this.onLoaded(input); break;
    }
    return this.end();
  }

  onTimeout(now: number): PeerEffect[] {
    this.ctx.begin(now);
    this.ctx.flushAcks();
    const { resend, failed } = this.ctx.outbox.expire(now);
    for (const p of resend) this.ctx.send(p.tag.kind === 'cmd' ? 'm' : 'p', p.to, p.msg, p.tries);
    for (const p of failed) this.onSendFailed(p);
    if (this.op?.kind === 'query') this.op.onTimeout(this);
    if (this.heartbeat.due(now)) this.probes.sendAlive();
    return this.end();
  }

  nextDeadline(): number | undefined {
    const times = [this.ctx.outbox.nextDeadline(), this.op?.kind === 'query' ? this.op.retryAt : undefined, this.ctx.ackDeadline(), this.heartbeat.nextDeadline()];
    return times.reduce<number | undefined>((d, t) => (t !== undefined && (d === undefined || t < d) ? t : d), undefined);
  }

  nameOf(addr: Addr): string | undefined {
    return this.ctx.known.get(`${addr.ip}:${addr.port}`);
  }

  /** Console lines waiting for their turn: the shell stops reading stdin while there are many. */
  get backlog(): number {
    return this.lines.length;
  }

  /** True when the console waits for nothing: used by drivers that type the next command. */
  get idle(): boolean {
    return this.op === null && !this.link.busy && this.lines.length === 0;
  }

  statusLines(): string[] {
    const q = this.op?.kind === 'query' ? [`queries: ${this.op.size} in flight, ${this.lines.length} console lines waiting`] : [];
    return [statusLine(this.state, this.table.count), ...q];
  }

  /** Entries of every bounded structure, for the soak test: flat over a long life. */
  footprint(): Record<string, number> {
    return { ...this.ctx.footprint(), lines: this.lines.length, records: this.table.count };
  }

  /** The state as accepts.ts names it, and the operation's phase: for tests and traces. */
  describe(): string {
    return `${stateName(this.state, this.op)}${this.op ? ` ${this.op.kind}:${this.op.phase}` : ''}`;
  }

  private end(): PeerEffect[] {
    this.drainConsole();
    this.checkInvariants();
    return this.ctx.out;
  }

  private checkInvariants(): void {
    const s = this.state;
    if (s.kind === 'member') assertRing(s.ring, s.me);
    else assert(this.table.count === 0, `a peer without a ring holds ${this.table.count} records`);
    assert(this.lines.length <= MAX_QUEUED_LINES, 'console queue bounded');
    if (this.op?.kind === 'register') assert((this.op.phase === 'binding') === (s.kind === 'unregistered'), 'registered once bound');
  }

  // ---------------------------------------------------------------- console

  private onLine(text: string): void {
    const parsed = parseLine(text, PEER_COMMANDS);
    const asking = this.op?.kind === 'query' && this.op.phase === 'asking';
    // Answered at once, even while a command is pending: a person asks to see why it waits.
    if (parsed.kind === 'command' && (parsed.cmd === 'status' || parsed.cmd === 'help') && !asking) return this.runLocal(parsed.cmd);
    if (this.lines.length >= MAX_QUEUED_LINES) {
      return this.ctx.print(`console: ${MAX_QUEUED_LINES} commands are already waiting; '${text.slice(0, 40)}' was dropped`);
    }
    this.lines.push(text);
  }

  private drainConsole(): void {
    // Bounded by the queue length: each pass consumes a line or stops. Queries of this peer may
    // join the ones in flight (query-pool.ts); every other line waits for the console to be idle.
    for (let i = 0; i <= MAX_QUEUED_LINES && this.lines.length > 0; i++) {
      const op = this.op;
      const line = this.lines[0] ?? '';
      if (op?.kind === 'query' && op.phase === 'asking') op.onLine(this, line);
      else if (op?.kind === 'query' ? !op.take(this, line) : op !== null || this.link.busy) break;
      else if (op === null) this.runLine(line);
      this.lines.shift();
    }
  }

  private runLine(text: string): void {
    const parsed = parseLine(text, PEER_COMMANDS);
    if (parsed.kind === 'empty') return;
    if (parsed.kind === 'error') return this.ctx.print(parsed.text);
    const { cmd, args } = parsed;
    if (isManagerRequest(cmd)) return this.runRequest(cmd, args);
    this.runLocal(cmd);
  }

  private runLocal(cmd: Exclude<PeerCommand, ManagerRequest>): void {
    switch (cmd) {
      case 'help': return helpText(PEER_COMMANDS).forEach((l) => this.ctx.print(l));
      case 'status':
        this.statusLines().forEach((l) => this.ctx.print(l));
        return this.ctx.emit({ kind: 'process-status' });
      case 'quit': return this.ctx.emit({ kind: 'exit', code: 0 });
    }
  }

  private runRequest(req: ManagerRequest, args: string[]): void {
    const me = this.me;
    if (req === 'register' && me) return this.ctx.print(`register: this peer is already registered as ${me.name}`);
    if (req !== 'register' && !me) return this.ctx.print(`${req}: this peer is not registered yet — register <peer-name> <IPv4> <m-port> <p-port> first`);
    const problem = me && req !== 'register' ? namingProblem(req, args[0] ?? '', me.name) : null;
    if (problem) return this.ctx.print(problem);
    START[req](this, args);
  }

  // ---------------------------------------------------------------- datagrams

  private onDatagram(via: Via, from: Addr, msg: Message): void {
    if (msg.t === 'ack') {
      this.onAck(from, msg.rid);
      for (const rid of msg.more ?? []) this.onAck(from, rid);
      return;
    }
    if (via === 'm') return isLivenessMessage(msg) ? this.probes.handle(from, msg) : this.onManagerDatagram(from, msg);
    if (mPortOnly(msg)) return this.ctx.complain(from, msg.t, 'manager messages belong on the m-port');
    const refused = refusal(msg.t, stateName(this.state, this.op));
    if (msg.t === 'find-event' || msg.t === 'event-result') {
      return queryGate(this, from, msg, refused, () => (msg.t === 'find-event' ? onFindEvent(this, msg) : this.onEventResult(from, msg)));
    }
    if (refused !== null) return this.ctx.complain(from, msg.t, refused);
    if (!ringGate(this, from, msg)) return;
    const why = (HANDLERS[msg.t] as Handler<typeof msg.t>)(this, from, msg);
    if (why !== null) return this.ctx.complain(from, msg.t, why);
    // The handler may have entered a ring with a new secret: mark under the one the message carried.
    this.ctx.replayWindows(msg.sec).mark(addrKey(from), msg.rid);
    this.ctx.ack('p', from, msg.rid);
  }

  private onEventResult(from: Addr, m: MessageOf<'event-result'>): null {
    if (this.op?.kind === 'query' && this.op.onResult(this, from, m)) return null;
    // A late answer to a finished query (or a stranger's): no complaint, it is nobody's fault, but
    // its trace line is rate-limited like one, so a flood of them cannot fill the console.
    this.ctx.emit({ kind: 'note', verdict: 'ignored' });
    return null;
  }

  private onManagerDatagram(from: Addr, msg: Message): void {
    if (from.ip !== this.manager.ip || from.port !== this.manager.port) return this.ctx.complain(from, msg.t, 'not from the manager');
    const token = this.ctx.creds.token;
    if (msg.t === 'res') {
      // Once registered, only responses with this peer's token (before: register's own, by its rid).
      // A manager restarted since knows nobody: its NOT_REGISTERED comes without a token (and
      // still only settles the request with the unguessable id it answers).
      const forgotten = msg.code === 'FAILURE' && msg.reason === 'NOT_REGISTERED' && msg.tok === undefined;
      if (token !== null && !forgotten && !sameSecret(msg.tok, token)) return this.ctx.complain(from, msg.t, 'without this peer\'s token');
      const settled = this.link.settle(from, msg);
      if (settled !== null) this.onResponse(settled.req, msg, settled.owner);
      return;
    }
    if (msg.t !== 'dissolved' && msg.t !== 'dht-notice' && msg.t !== 'join-notice' && msg.t !== 'repair') return this.ctx.complain(from, msg.t, 'peer messages belong on the p-port');
    noticeGate(this, from, msg, (notice) => applyNotice(this, notice, (text) => this.onDissolved(text)));
  }

  private onResponse(req: ManagerRequest, res: Res, owner?: object): void {
    if (req === 'register' && res.code === 'SUCCESS' && res.tok !== undefined) {
      this.ctx.creds.token = res.tok;
      this.ctx.managerIds.clear();
      if (res.hb !== undefined) this.heartbeat.start(this.ctx.now, res.hb);
    }
    // A query prints its own response line, with its other lines (query-pool.ts).
    if (!(req === 'query-dht' && this.op?.kind === 'query')) this.ctx.print(responseLine(req, res));
    RESPONSES[req](this, res, owner);
    // The manager no longer knows this peer (it declared it dead while it could not be heard, or
    // lost its state): stay registered and every command fails, so forget it and say so.
    if (req !== 'register' && res.reason === 'NOT_REGISTERED' && res.tok === undefined && this.state.kind !== 'unregistered') {
      this.ctx.print(`${req}: the manager no longer knows ${this.state.me.name}; this peer is unregistered now — register again`);
      if (this.op === null) this.unregister();
    }
  }

  private onLoaded(input: Loaded): void {
    const op = this.op;
    if (!op || (op.kind !== 'setup' && op.kind !== 'admit' && op.kind !== 'rebuild' && op.kind !== 'repair')) return;
    if (op.phase !== 'loading' || op.year !== input.year) return; // a load nobody waits for any more
    op.onLoaded(this, input.data);
  }

  private onAck(from: Addr, rid: number): void {
    const p = this.ctx.outbox.settle(rid, from, this.ctx.now);
    if (p?.tag.kind !== 'p2p') return;
    const owner = p.tag.owner;
    const stream = currentStream(this, owner);
    if (stream) {
      stream.acked();
      return stream.pump(this.ctx, this.member().ring);
    }
    if (owner !== null && owner === this.op && this.op.kind === 'setup') this.op.onAcked(this, rid);
  }

  private onSendFailed(p: Pending<Numbered, Tag>): void {
    if (p.tag.kind === 'cmd') {
      const gave = this.link.gaveUp(p);
      if (gave) this.onResponse(gave.req, gave.res, gave.owner);
      return;
    }
    const why = `${p.tag.to} (${p.to.ip}:${p.to.port}) did not acknowledge ${p.tag.t} after ${p.tries} tries`;
    const owner = p.tag.owner;
    if (owner instanceof StoreStream) return onStreamFailed(this, owner, why);
    const op = this.op;
    if (p.tag.t === 'find-event' || p.tag.t === 'event-result') {
      // A query's hop: the querier asks again (its own first hop) or times out; nothing else to undo.
      if (owner !== null && op?.kind === 'query' && op.onHopFailed(this, owner, why)) return;
      return onHopLost(this, p.msg, why);
    }
    if (owner !== null && owner === op && op.kind !== 'register' && op.kind !== 'query') return op.onFailed(this, why);
    this.ctx.print(`error: ${why}`);
  }

  private onDissolved(text: string): void {
    const had = this.state.kind === 'member';
    if (this.op && this.op.kind !== 'query' && this.op.kind !== 'register') this.finish(this.op);
    if (had) this.leaveRing();
    this.ctx.dropAllPeerMessages();
    this.ctx.print(`dissolved: ${text}${had ? '; this peer left the ring and is Free' : ''}`);
  }

  // ---------------------------------------------------------------- Host: what operations use

  start(op: Operation): void {
    assert(this.op === null, `one operation at a time (${this.op?.kind} runs, ${op.kind} asked)`);
    this.op = op;
    op.start(this);
  }

  finish(op: Operation): void {
    assert(this.op === op, `finishing ${op.kind}, which is not the current operation`);
    this.op = null;
    this.ctx.drop(op);
    if ('stream' in op && op.stream) this.ctx.drop(op.stream);
  }

  request(req: ManagerRequest, args: string[], counts?: readonly number[], owner?: object): void {
    this.link.send(req, args, counts, owner);
  }

  abort(why: string): void {
    this.ctx.print(why);
    if (this.op) this.finish(this.op);
    if (this.state.kind === 'member') this.leaveRing();
    this.ctx.dropAllPeerMessages();
    this.request('dht-abort', [this.self().name]);
  }

  registered(me: Me): void {
    assert(this.state.kind === 'unregistered', 'registered once');
    this.state = { kind: 'free', me };
    this.ctx.known.set(`${me.ip}:${me.pport}`, me.name);
  }

  unregister(): void {
    if (this.state.kind === 'member') this.leaveRing();
    Object.assign(this.ctx.creds, { token: null, announced: null, vouched: null });
    this.heartbeat.stop();
    this.state = { kind: 'unregistered' };
    this.ctx.emit({ kind: 'unbind' });
  }

  enterRing(ring: Ring, renumberedBy: Tuple | null, changing: string): Member {
    const me = this.self();
    assertRing(ring, me);
    if (this.state.kind === 'member') dropRelay(this, this.state);
    this.table.clear();
    const member: Member = { kind: 'member', me, ring, relay: null, renumberedBy, complete: false, changing };
    this.state = member;
    return member;
  }

  leaveRing(): void {
    const s = this.member();
    dropRelay(this, s);
    this.table.clear();
    this.state = { kind: 'free', me: s.me };
  }

  member(): Member {
    assert(this.state.kind === 'member', `in a ring (state ${this.state.kind})`);
    return this.state;
  }

  self(): Me {
    const me = this.me;
    assert(me !== null, 'registered');
    return me;
  }
}
