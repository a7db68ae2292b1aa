// The peer as a pure state machine. Inputs: a console line, a datagram (on the m-port or the
// p-port), the result of binding its sockets, a timeout. Outputs: effects for the shell. No
// socket, clock, file or random source inside: `now` comes with each call, the dataset and the
// random numbers through `env`. The same code runs over real UDP and in the simulation.
import { MAX_RING, type Message, type MessageOf, type PeerMessage, type Tuple, type Unnumbered } from '../protocol/messages.js';
import { COLUMNS, type LineDataset } from '../data/record.js';
import { eventIdOfLine, fromLine } from '../data/line.js';
import { nodeOf, positionOf, tableSize } from '../data/hash.js';
import { AckBatcher, Outbox, Recent, addrKey, requestKey, sameAddr, type Addr, type Pending, type RetryPolicy, type WithoutRid } from '../reliable/index.js';
import { PEER_COMMANDS, helpText, parseEventId, parseIpv4, parseLine, parsePort, parseYear } from '../console/commands.js';
import { Complaints } from '../console/ratelimit.js';
import { LocalTable } from './table.js';
import type { Effect, Via } from '../runtime/effects.js';
import { ringProblem, walkProblem } from './checks.js';
import { Pipeline } from './pipeline.js';

export interface PeerConfig {
  retry: RetryPolicy;
  /** Largest datagram payload in bytes. */
  maxPayload: number;
  /** Store batches in flight per hop. */
  window: number;
  /** How long a query may take before the querying peer gives up. */
  queryTimeoutMs: number;
}

export interface PeerEnv {
  random(): number;
  /** null if the year's file is there and readable, else a one-line explanation. */
  checkData(year: number): string | null;
  /** The year's records as record lines, or a one-line explanation of why they cannot be read. */
  loadData(year: number): LineDataset | string;
}

export type { Via } from '../runtime/effects.js';
/** The peer's effects: the shared ones (runtime/effects.ts), sends always naming their socket. */
export type PeerEffect = Exclude<Effect, { kind: 'send' }> | (Extract<Effect, { kind: 'send' }> & { via: Via });

export type PeerInput =
  | { kind: 'line'; text: string }
  | { kind: 'datagram'; via: Via; from: Addr; msg: Message }
  | { kind: 'bound' }
  | { kind: 'bind-failed'; error: string };

export interface Me { name: string; ip: string; mport: number; pport: number }
export interface Ring { id: number; n: number; peers: Tuple[]; year: number; s: number; epoch: number; dht: number }

type Res = MessageOf<'res'>;
type Tag = { kind: 'cmd'; cmd: string } | { kind: 'p2p'; t: string; to: string; pipe: Pipeline | null };

/** Work the console waits for: one at a time, as a person waits for an answer. */
type Job =
  | { kind: 'binding'; me: Me; args: string[] }
  | { kind: 'cmd' }
  | { kind: 'ask-event-id'; name: string }
  | { kind: 'setup' }
  | { kind: 'query'; qid: number; eventId: number; deadline: number; target: Tuple; tries: number; retryAt: number }
  | { kind: 'leave'; newLeader?: Tuple }
  | { kind: 'join'; leader: Tuple; dht: number }
  | { kind: 'teardown' };

/** A ring operation this peer started and must see come back around. */
type RingOp =
  | { kind: 'leave' }
  | { kind: 'teardown-dht' }
  | { kind: 'admit'; joiner: Tuple };

/** Console commands whose whole operation is timed. */
const STARTS_OPERATION = new Set(['setup-dht', 'leave-dht', 'join-dht', 'teardown-dht', 'query-dht']);

/** Bounds (TigerBeetle habit): console lines waiting, ids remembered for duplicate suppression. */
const MAX_QUEUED_LINES = 100_000;
const DEDUP_CAPACITY = 200_000;
/**
 * How long an acknowledgement may wait for others to share its datagram: zero means "until the
 * datagrams already received are handled" (the shell flushes after its current I/O burst).
 */
const ACK_DELAY_MS = 0;

/** A field as one console line: control characters (a quoted CSV field may hold a newline) shown escaped. */
function printable(field: string): string {
  return field.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** A sentence for another peer's console: one line of at most 300 characters (the schema's Text). */
function sentence(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300);
}

export class PeerCore {
  me: Me | null = null;
  ring: Ring | null = null;
  readonly table = new LocalTable();
  private job: Job | null = null;
  private op: RingOp | null = null;
  private pendingCmd: { rid: number; cmd: string; onRes: (res: Res) => void } | null = null;
  private readonly lines: string[] = [];
  private readonly outbox: Outbox<Message & { rid: number }, Tag>;
  private readonly seen = new Recent<true>(DEDUP_CAPACITY);
  private readonly known = new Recent<string>(1024);
  private readonly complaints = new Complaints();
  private pipe: Pipeline | null = null;
  /** Set while this peer leads a setup or rebuild: who to tell when store-end comes back. */
  private lead: { purpose: 'setup' | 'rebuild'; notify?: Tuple } | null = null;
  private lastResetOrigin: Tuple | null = null;
  private setIdsPending = new Set<number>();
  private setupData: string[] | null = null;
  private received = { batches: 0, records: 0, misrouted: 0 };
  /** When the console command that started the current operation was sent (for its duration line). */
  private opStartedAt = 0;
  private out: PeerEffect[] = [];
  private now = 0;
  private readonly acks = new AckBatcher<Via>(ACK_DELAY_MS);

  constructor(readonly manager: Addr, private readonly config: PeerConfig, private readonly env: PeerEnv) {
    this.outbox = new Outbox(config.retry, Math.floor(env.random() * 2 ** 40));
    this.known.set(addrKey(manager), 'manager');
  }

  handle(now: number, input: PeerInput): PeerEffect[] {
    this.begin(now);
    switch (input.kind) {
      case 'line': this.onLine(input.text); break;
      case 'datagram': this.onDatagram(input.via, input.from, input.msg); break;
      case 'bound': this.onBound(); break;
      case 'bind-failed': this.onBindFailed(input.error); break;
    }
    this.drainConsole();
    return this.out;
  }

  onTimeout(now: number): PeerEffect[] {
    this.begin(now);
    for (const a of this.acks.flush(now)) this.out.push({ kind: 'send', via: a.via, to: a.to, msg: a.msg, attempt: 1 });
    const { resend, failed } = this.outbox.expire(now);
    for (const p of resend) this.emitSend(p.tag.kind === 'cmd' ? 'm' : 'p', p.to, p.msg, p.tries);
    for (const p of failed) this.onSendFailed(p);
    if (this.job?.kind === 'query') this.onQueryTimeout(this.job);
    this.drainConsole();
    return this.out;
  }

  nextDeadline(): number | undefined {
    let d = this.outbox.nextDeadline();
    for (const t of [this.job?.kind === 'query' ? this.job.retryAt : undefined, this.acks.deadline()]) {
      if (t !== undefined && (d === undefined || t < d)) d = t;
    }
    return d;
  }

  nameOf(addr: Addr): string | undefined {
    return this.known.get(addrKey(addr));
  }

  /** Console lines waiting for their turn: the shell stops reading stdin while there are many. */
  get backlog(): number {
    return this.lines.length;
  }

  /** True when the console waits for nothing: used by drivers that type the next command. */
  get idle(): boolean {
    return this.job === null && this.pendingCmd === null && this.lines.length === 0;
  }

  private begin(now: number): void {
    this.out = [];
    this.now = now;
  }

  // ---------------------------------------------------------------- console

  private onLine(text: string): void {
    if (this.lines.length >= MAX_QUEUED_LINES) {
      this.print(`console: ${MAX_QUEUED_LINES} commands are already waiting; '${text.slice(0, 40)}' was dropped`);
      return;
    }
    this.lines.push(text);
  }

  private drainConsole(): void {
    // Bounded by the queue length: each pass consumes a line or stops.
    while (this.lines.length > 0 && this.pendingCmd === null) {
      if (this.job?.kind === 'ask-event-id') this.answerEventId(this.lines.shift()!);
      else if (this.job === null) this.runLine(this.lines.shift()!);
      else break;
    }
  }

  private runLine(text: string): void {
    const parsed = parseLine(text, PEER_COMMANDS);
    if (parsed.kind === 'empty') return;
    if (parsed.kind === 'error') return this.print(parsed.text);
    const { cmd, args } = parsed;
    if (cmd === 'help') return helpText(PEER_COMMANDS).forEach((l) => this.print(l));
    if (cmd === 'status') {
      this.statusLines().forEach((l) => this.print(l));
      return void this.out.push({ kind: 'process-status' });
    }
    if (cmd === 'quit') return void this.out.push({ kind: 'exit', code: 0 });
    if (cmd === 'register') return this.startRegister(args);
    if (!this.me) return this.print(`${cmd}: this peer is not registered yet — register <peer-name> <IPv4> <m-port> <p-port> first`);
    if (cmd === 'query-dht' && args.length === 1) {
      this.job = { kind: 'ask-event-id', name: args[0]! };
      return this.print('event id?');
    }
    if (cmd === 'setup-dht') {
      const problem = this.env.checkData(parseYear(args[2]!)!);
      if (problem) return this.print(`setup-dht: ${problem} (nothing was sent)`);
    }
    if (STARTS_OPERATION.has(cmd)) this.opStartedAt = this.now;
    this.sendCommand(cmd, cmd === 'query-dht' ? [args[0]!] : args, (res) => this.onResponse(cmd, args, res));
  }

  /** While the console waits for an event id, the next line is that id (SPEC §3.2). */
  private answerEventId(text: string): void {
    if (this.job?.kind !== 'ask-event-id') return;
    const name = this.job.name;
    this.job = null;
    const id = parseEventId(text.trim());
    if (id === null) {
      this.print(`query-dht: '${text.trim().slice(0, 30)}' is not an event id (a whole number); query not sent`);
      return;
    }
    this.opStartedAt = this.now;
    this.sendCommand('query-dht', [name], (res) => this.onResponse('query-dht', [name, String(id)], res));
  }

  statusLines(): string[] {
    if (!this.me) return ['status: not registered'];
    const r = this.ring;
    const state = r ? (r.id === 0 ? 'Leader' : 'InDHT') : 'Free';
    const right = r ? r.peers[(r.id + 1) % r.n]! : null;
    return [`status: ${this.me.name} at ${this.me.ip} m-port ${this.me.mport} p-port ${this.me.pport}; ${state}` +
      (r ? `; id ${r.id} of ${r.n}; right neighbour ${right!.name} (${right!.ip}:${right!.port}); year ${r.year}, s ${r.s}` : '') +
      `; ${this.table.count} records held`];
  }

  // ---------------------------------------------------------------- manager requests

  private startRegister(args: string[]): void {
    if (this.me) return this.print(`register: this peer is already registered as ${this.me.name}`);
    const me: Me = { name: args[0]!, ip: parseIpv4(args[1]!)!, mport: parsePort(args[2]!)!, pport: parsePort(args[3]!)! };
    this.job = { kind: 'binding', me, args };
    this.out.push({ kind: 'bind', ip: me.ip, mport: me.mport, pport: me.pport });
  }

  private onBound(): void {
    if (this.job?.kind !== 'binding') return;
    const { me, args } = this.job;
    this.job = null;
    this.me = me;
    this.known.set(addrKey({ ip: me.ip, port: me.pport }), me.name);
    this.sendCommand('register', args, (res) => this.onResponse('register', args, res));
  }

  private onBindFailed(error: string): void {
    if (this.job?.kind !== 'binding') return;
    this.job = null;
    this.print(`register: cannot use those ports — ${error} (nothing was sent)`);
  }

  private sendCommand(cmd: string, args: string[], onRes: (res: Res) => void): void {
    const msg = this.outbox.send(this.now, this.manager, { t: 'cmd', cmd, args }, { kind: 'cmd', cmd });
    this.pendingCmd = { rid: msg.rid, cmd, onRes };
    this.emitSend('m', this.manager, msg, 1);
  }

  private onResponse(cmd: string, args: string[], res: Res): void {
    const line = res.code === 'SUCCESS' ? `${cmd}: SUCCESS — ${res.text}` : `${cmd}: FAILURE ${res.reason ?? ''} — ${res.text}`;
    this.print(line);
    const ok = res.code === 'SUCCESS';
    switch (cmd) {
      case 'register':
        if (!ok) this.unregister();
        break;
      case 'setup-dht':
        if (ok) this.startSetup(res.peers ?? [], parseYear(args[2]!)!, res.dht ?? 0);
        break;
      case 'query-dht':
        if (ok && res.peer) this.startQuery(res.peer, Number(args[1]));
        break;
      case 'leave-dht':
        if (ok) this.startLeave();
        break;
      case 'join-dht':
        if (ok && res.peer) this.startJoin(res.peer, res.dht ?? 0);
        break;
      case 'teardown-dht':
        if (ok) this.startTeardownDht();
        break;
      case 'deregister':
        if (ok) {
          this.unregister();
          this.out.push({ kind: 'exit', code: 0 });
        }
        break;
      case 'dht-complete': case 'dht-rebuilt': case 'teardown-complete': case 'dht-abort':
        if (this.job && ['setup', 'leave', 'join', 'teardown'].includes(this.job.kind)) {
          if (ok && cmd !== 'dht-abort') this.print(`${this.job.kind}-dht: done in ${this.elapsed()} ms (from the request to the manager's SUCCESS)`);
          this.job = null;
        }
        break;
    }
  }

  private unregister(): void {
    this.me = null;
    this.ring = null;
    this.table.clear();
    this.out.push({ kind: 'unbind' });
  }

  // ---------------------------------------------------------------- datagrams

  private onDatagram(via: Via, from: Addr, msg: Message): void {
    if (msg.t === 'ack') {
      this.onAck(from, msg.rid);
      for (const rid of msg.more ?? []) this.onAck(from, rid);
      return;
    }
    if (via === 'm') return this.onManagerDatagram(from, msg);
    if (msg.t === 'cmd' || msg.t === 'res' || msg.t === 'dissolved') {
      return this.complain(from, msg.t, 'manager messages belong on the m-port');
    }
    if (msg.t === 'find-event' || msg.t === 'event-result') {
      // Queries are retried end to end by the querying peer, not hop by hop: no ack, no dedup
      // (answering twice is harmless; the querying peer takes the first answer).
      const why = msg.t === 'find-event' ? this.onFindEvent(msg) : this.onEventResult(from, msg);
      if (why !== null) this.complain(from, msg.t, why);
      return;
    }
    const key = requestKey(from.ip, from.port, msg.rid);
    if (this.seen.has(key)) {
      // A retransmission: acknowledge, never apply twice.
      this.out.push({ kind: 'note', verdict: 'duplicate' });
      return this.ack('p', from, msg.rid);
    }
    const why = this.onPeerMessage(from, msg);
    if (why !== null) return this.complain(from, msg.t, why);
    this.seen.set(key, true);
    this.ack('p', from, msg.rid);
  }

  private onManagerDatagram(from: Addr, msg: Message): void {
    if (!sameAddr(from, this.manager)) return this.complain(from, msg.t, 'not from the manager');
    if (msg.t === 'res') {
      const p = this.outbox.settle(msg.rid, from, this.now);
      const pending = this.pendingCmd;
      if (!p || !pending || pending.rid !== msg.rid) return; // a late duplicate of an answered request
      this.pendingCmd = null;
      pending.onRes(msg);
      return;
    }
    if (msg.t === 'dissolved') {
      const key = requestKey(from.ip, from.port, msg.rid);
      if (!this.seen.has(key)) {
        this.seen.set(key, true);
        // Only the DHT this peer is in (or is joining) may be dissolved here, never a newer one.
        const mine = this.ring?.dht ?? (this.job?.kind === 'join' ? this.job.dht : null);
        if (mine === null || mine === msg.dht) this.onDissolved(msg.text);
      }
      this.ack('m', from, msg.rid);
      return;
    }
    this.complain(from, msg.t, 'peer messages belong on the p-port');
  }

  /** Apply one peer-to-peer message; null if taken, else why it was ignored. */
  private onPeerMessage(from: Addr, msg: PeerMessage): string | null {
    switch (msg.t) {
      case 'set-id': return this.onSetId(from, msg);
      case 'store': return this.onStore(from, msg);
      case 'store-end': return this.onStoreEnd(from, msg);
      case 'store-failed': return this.onStoreFailed(from, msg);
      case 'teardown': return this.onTeardown(from, msg);
      case 'reset-id': return this.onResetId(from, msg);
      case 'rebuild-dht': return this.onRebuildDht(from, msg);
      case 'rebuild-done': return this.onRebuildDone(from, msg);
      case 'join': return this.onJoin(msg);
      case 'find-event': case 'event-result': return 'a query message on the reliable path';
    }
  }

  private inRing(from: Addr): boolean {
    return this.ring !== null && this.ring.peers.some((p) => p.ip === from.ip && p.port === from.port);
  }

  // ---------------------------------------------------------------- setup (SPEC §3.1)

  private startSetup(peers: Tuple[], year: number, dht: number): void {
    const data = this.env.loadData(year);
    if (typeof data === 'string') return this.abort(`setup-dht: ${data}`);
    const s = tableSize(data.lines.length);
    const epoch = this.newEpoch();
    this.ring = { id: 0, n: peers.length, peers, year, s, epoch, dht };
    this.rememberTuples(peers);
    this.job = { kind: 'setup' };
    this.setupData = data.lines;
    this.print(`setup: ${data.lines.length} records of ${year} (${data.source}); s = ${s}; assigning ids to ${peers.length - 1} peers`);
    for (let i = 1; i < peers.length; i++) {
      const msg = this.sendPeer(peers[i]!, { t: 'set-id', id: i, n: peers.length, peers, year, s, epoch, dht });
      this.setIdsPending.add(msg.rid);
    }
    if (this.setIdsPending.size === 0) this.distribute('setup');
  }

  private onSetIdAcked(rid: number): void {
    if (!this.setIdsPending.delete(rid) || this.setIdsPending.size > 0) return;
    if (this.job?.kind === 'setup') this.distribute('setup');
  }

  private onSetId(from: Addr, m: MessageOf<'set-id'>): string | null {
    if (!this.me) return 'not registered';
    const leader = m.peers[0]!;
    if (leader.ip !== from.ip || leader.port !== from.port) return 'set-id must come from the leader it names';
    const bad = ringProblem(m);
    if (bad) return `bad set-id: ${bad}`;
    const mine = m.peers[m.id];
    if (!mine || mine.name !== this.me.name || mine.port !== this.me.pport) return 'set-id names another peer at this id';
    if (this.ring && !this.inRing(from)) return 'this peer is in another ring';
    this.ring = { id: m.id, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht };
    this.rememberTuples(m.peers);
    this.table.clear();
    this.pipe = null;
    this.received = { batches: 0, records: 0, misrouted: 0 };
    const right = m.peers[(m.id + 1) % m.n]!;
    this.print(`set-id: I am node ${m.id} of ${m.n} (leader ${leader.name}); right neighbour ${right.name}; year ${m.year}, s = ${m.s}`);
    return null;
  }

  /** Spread the year's records over the ring (leader only): keep id 0's, send the rest right. */
  private distribute(purpose: 'setup' | 'rebuild', notify?: Tuple): void {
    const ring = this.ring!;
    let records = this.setupData;
    this.setupData = null;
    if (!records) {
      const data = this.env.loadData(ring.year);
      if (typeof data === 'string') return this.rebuildFailed(notify, data);
      records = data.lines;
      if (tableSize(records.length) !== ring.s) {
        return this.rebuildFailed(notify, `the ${ring.year} file now has ${records.length} records, not the ${ring.s} table size the ring was built with`);
      }
    }
    this.table.clear();
    this.pipe = new Pipeline(this.config.window, this.config.maxPayload);
    this.received = { batches: 0, records: 0, misrouted: 0 };
    for (const line of records) {
      const pos = positionOf(eventIdOfLine(line), ring.s);
      if (nodeOf(pos, ring.n) === 0) this.table.add(pos, line);
      else this.pipe.push(line);
    }
    this.lead = notify ? { purpose, notify } : { purpose };
    this.print(`${purpose === 'setup' ? 'setup' : 'rebuild'}: storing ${records.length} records on ${ring.n} nodes; ${this.table.count} stay here`);
    this.pipe.pushEnd([this.table.count]);
    this.pump();
  }

  private pump(): void {
    const pipe = this.pipe;
    const ring = this.ring;
    if (!pipe || !ring) return;
    const right = ring.peers[(ring.id + 1) % ring.n]!;
    for (const item of pipe.take()) {
      if (item.t === 'store') this.sendPeer(right, { t: 'store', epoch: ring.epoch, recs: item.recs }, pipe);
      else {
        if (pipe.batchesSent > 0 || this.received.batches > 0) {
          this.print(`store: received ${this.received.records} records in ${this.received.batches} batches, kept ${this.table.count}, ` +
            `forwarded ${pipe.recordsSent} in ${pipe.batchesSent} batches to ${right.name}` +
            (pipe.oversized > 0 ? ` (${pipe.oversized} records too large for one datagram went alone, in fragments)` : ""));
        }
        this.sendPeer(right, { t: 'store-end', epoch: ring.epoch, counts: item.counts }, pipe);
      }
    }
  }

  private onPipeAck(): void {
    if (!this.pipe) return;
    this.pipe.acked();
    this.pump();
  }

  private onStore(from: Addr, m: MessageOf<'store'>): string | null {
    const ring = this.ring;
    if (!ring || !this.inRing(from)) return 'not from a member of this ring';
    if (m.epoch !== ring.epoch) return null; // a late batch of an earlier ring: acknowledge and drop
    if (!this.pipe) this.pipe = new Pipeline(this.config.window, this.config.maxPayload);
    this.received.batches += 1;
    this.received.records += m.recs.length;
    for (const rec of m.recs) {
      const pos = positionOf(eventIdOfLine(rec), ring.s);
      const id = nodeOf(pos, ring.n);
      if (id === ring.id) this.table.add(pos, rec);
      else if (id > ring.id) this.pipe.push(rec);
      else this.received.misrouted += 1;
    }
    this.pump();
    return null;
  }

  private onStoreEnd(from: Addr, m: MessageOf<'store-end'>): string | null {
    const ring = this.ring;
    if (!ring || !this.inRing(from)) return 'not from a member of this ring';
    if (m.epoch !== ring.epoch) return null;
    if (this.received.misrouted > 0) this.print(`store: warning: ${this.received.misrouted} records arrived past their node and were dropped`);
    if (ring.id === 0) {
      this.finishDistribution(m.counts);
      return null;
    }
    if (!this.pipe) this.pipe = new Pipeline(this.config.window, this.config.maxPayload);
    this.pipe.pushEnd([...m.counts, this.table.count]);
    this.pump();
    return null;
  }

  private finishDistribution(counts: number[]): void {
    const ring = this.ring!;
    const lead = this.lead;
    this.lead = null;
    this.pipe = null;
    if (!lead) return;
    let total = 0;
    for (let i = 0; i < ring.n; i++) {
      this.print(`node ${i} ${ring.peers[i]!.name}: ${counts[i] ?? '?'} records`);
      total += counts[i] ?? 0;
    }
    this.print(`${lead.purpose}: ${total} records stored on ${ring.n} nodes`);
    if (lead.purpose === 'setup') {
      this.sendCommand('dht-complete', [this.me!.name], (res) => this.onResponse('dht-complete', [], res));
    } else if (lead.notify) {
      this.sendPeer(lead.notify, { t: 'rebuild-done', leader: this.me!.name, ok: true, counts, text: `rebuilt on ${ring.n} nodes` });
    }
  }

  // ---------------------------------------------------------------- teardown (SPEC §3.3)

  private startTeardown(dissolve: boolean): void {
    const ring = this.ring!;
    this.sendPeer(ring.peers[(ring.id + 1) % ring.n]!, { t: 'teardown', origin: this.me!.name, dissolve, epoch: ring.epoch });
  }

  private startTeardownDht(): void {
    if (!this.ring) return this.print('teardown-dht: this peer holds no ring; send teardown-complete by hand if the manager waits');
    this.job = { kind: 'teardown' };
    this.op = { kind: 'teardown-dht' };
    this.startTeardown(true);
  }

  private onTeardown(from: Addr, m: MessageOf<'teardown'>): string | null {
    const ring = this.ring;
    if (!ring || !this.inRing(from)) return 'not from a member of this ring';
    if (!ring.peers.some((p) => p.name === m.origin)) return `teardown from ${m.origin}, who is not in this ring`;
    if (m.epoch !== ring.epoch) return null; // a late teardown of an earlier ring: acknowledge and drop
    if (m.origin === this.me!.name) {
      this.table.clear();
      this.teardownReturned(m.dissolve);
      return null;
    }
    const held = this.table.count;
    this.table.clear();
    this.pipe = null;
    this.sendPeer(ring.peers[(ring.id + 1) % ring.n]!, { t: 'teardown', origin: m.origin, dissolve: m.dissolve, epoch: m.epoch });
    if (m.dissolve) this.ring = null;
    this.print(`teardown: deleted ${held} records${m.dissolve ? '; left the ring' : ''}`);
    return null;
  }

  private teardownReturned(dissolve: boolean): void {
    const op = this.op;
    if (dissolve) this.ring = null;
    this.print('teardown: every node has deleted its table');
    if (op?.kind === 'teardown-dht') {
      this.op = null;
      this.sendCommand('teardown-complete', [this.me!.name], (res) => this.onResponse('teardown-complete', [], res));
    } else if (op?.kind === 'leave') {
      this.renumberForLeave();
    } else if (op?.kind === 'admit') {
      this.renumberForJoin(op.joiner);
    }
  }

  // ---------------------------------------------------------------- leave (SPEC §3.4)

  private startLeave(): void {
    if (!this.ring) return this.abort('leave-dht: this peer holds no ring');
    this.job = { kind: 'leave' };
    this.op = { kind: 'leave' };
    this.startTeardown(false);
  }

  private renumberForLeave(): void {
    const ring = this.ring!;
    const others = [...ring.peers.slice(ring.id + 1), ...ring.peers.slice(0, ring.id)];
    const epoch = this.newEpoch();
    this.print(`leave: renumbering ${others.length} nodes; ${others[0]!.name} becomes the leader`);
    this.sendPeer(others[0]!, { t: 'reset-id', origin: this.meTuple(), id: 0, n: others.length, peers: others, year: ring.year, s: ring.s, epoch, dht: ring.dht });
    if (this.job?.kind === 'leave') this.job.newLeader = others[0]!;
  }

  private onResetId(from: Addr, m: MessageOf<'reset-id'>): string | null {
    const me = this.me!;
    const expectedJoin = this.job?.kind === 'join' && this.job.leader.name === m.origin.name;
    if (!this.inRing(from) && !expectedJoin) return 'not from a member of this ring';
    if (m.origin.name === me.name) {
      this.resetReturned();
      return null;
    }
    const bad = ringProblem(m);
    if (bad) return `bad reset-id: ${bad}`;
    const mine = m.peers[m.id];
    if (!mine || mine.name !== me.name) return 'reset-id gives this peer\'s id to another';
    this.ring = { id: m.id, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht };
    this.rememberTuples(m.peers);
    this.lastResetOrigin = m.origin;
    this.pipe = null;
    this.received = { batches: 0, records: 0, misrouted: 0 };
    const next = m.id === m.n - 1 ? m.origin : m.peers[m.id + 1]!;
    this.print(`reset-id: I am node ${m.id} of ${m.n}; right neighbour ${m.peers[(m.id + 1) % m.n]!.name}`);
    this.sendPeer(next, { t: 'reset-id', origin: m.origin, id: m.id + 1, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht });
    return null;
  }

  private resetReturned(): void {
    const op = this.op;
    this.op = null;
    if (op?.kind === 'leave') {
      const ring = this.ring!;
      const job = this.job?.kind === 'leave' ? this.job : null;
      const newLeader = job?.newLeader;
      this.ring = null;
      this.table.clear();
      if (!newLeader) return;
      this.print(`leave: renumbered; asking ${newLeader.name} to rebuild the DHT`);
      this.sendPeer(newLeader, { t: 'rebuild-dht', year: ring.year, origin: this.meTuple() });
    } else if (op?.kind === 'admit') {
      this.print(`join: renumbered with ${op.joiner.name}; rebuilding`);
      this.distribute('rebuild', op.joiner);
    }
  }

  private onRebuildDht(from: Addr, m: MessageOf<'rebuild-dht'>): string | null {
    const ring = this.ring;
    const origin = this.lastResetOrigin;
    if (!ring || ring.id !== 0) return 'this peer is not the leader of a ring';
    if (!origin || origin.name !== m.origin.name || origin.ip !== from.ip || origin.port !== from.port) {
      return 'rebuild-dht from a peer that did not renumber this ring';
    }
    if (this.lead || this.table.count > 0) return 'the tables are not torn down: no rebuild';
    // Once per renumbering: a replayed rebuild-dht must not store every record a second time.
    this.lastResetOrigin = null;
    this.print(`rebuild-dht: rebuilding the DHT for ${m.origin.name}'s leave`);
    this.distribute('rebuild', m.origin);
    return null;
  }

  private rebuildFailed(notify: Tuple | undefined, why: string): void {
    this.print(`rebuild: ${why}`);
    if (notify) this.sendPeer(notify, { t: 'rebuild-done', leader: this.me!.name, ok: false, counts: [], text: sentence(why) });
    else if (this.job?.kind === 'setup') this.abort(`setup-dht: ${why}`);
  }

  private onRebuildDone(from: Addr, m: MessageOf<'rebuild-done'>): string | null {
    const job = this.job;
    if (job?.kind !== 'leave' && job?.kind !== 'join') return 'no leave or join of this peer is pending';
    const expected = job.kind === 'leave' ? job.newLeader : job.leader;
    if (!expected || expected.ip !== from.ip || expected.port !== from.port) return 'rebuild-done from a peer that is not the leader';
    if (!m.ok) {
      this.abort(`${job.kind}-dht: the leader ${m.leader} could not rebuild: ${m.text}`);
      return null;
    }
    this.print(`${job.kind}: ${m.leader} rebuilt the DHT (${m.counts.join(', ')} records)`);
    this.sendCommand('dht-rebuilt', [this.me!.name, m.leader], (res) => this.onResponse('dht-rebuilt', [], res));
    return null;
  }

  // ---------------------------------------------------------------- join (our design, SPEC §3.6)

  private startJoin(leader: Tuple, dht: number): void {
    this.job = { kind: 'join', leader, dht };
    this.known.set(addrKey(leader), leader.name);
    this.sendPeer(leader, { t: 'join', joiner: this.meTuple() });
  }

  private onJoin(m: MessageOf<'join'>): string | null {
    const ring = this.ring;
    if (!ring || ring.id !== 0) return 'this peer is not the leader of a ring';
    if (this.op || this.lead) return 'the leader is busy with another ring operation';
    if (ring.peers.some((p) => p.name === m.joiner.name)) return `${m.joiner.name} is already in the ring`;
    if (ring.n >= MAX_RING) return `the ring already has ${MAX_RING} members`;
    this.known.set(addrKey(m.joiner), m.joiner.name);
    this.op = { kind: 'admit', joiner: m.joiner };
    this.print(`join: admitting ${m.joiner.name}; tearing down the tables first`);
    this.startTeardown(false);
    return null;
  }

  private renumberForJoin(joiner: Tuple): void {
    const ring = this.ring!;
    const peers = [...ring.peers, joiner];
    this.ring = { ...ring, n: peers.length, peers, epoch: this.newEpoch() };
    this.sendPeer(peers[1]!, { t: 'reset-id', origin: this.meTuple(), id: 1, n: peers.length, peers, year: ring.year, s: ring.s, epoch: this.ring.epoch, dht: ring.dht });
  }

  // ---------------------------------------------------------------- queries (SPEC §3.2)

  /**
   * Queries are read-only, so they are made reliable end to end, as DNS does: the querying peer
   * sends find-event again (same qid) when no answer came within the timeout, doubling it each
   * time, until --query-timeout. Hops are not acknowledged: a query costs half the datagrams.
   */
  private startQuery(target: Tuple, eventId: number): void {
    const qid = Math.floor(this.env.random() * 2 ** 40);
    const rto = this.outbox.rto(target);
    this.job = { kind: 'query', qid, eventId, deadline: this.now + this.config.queryTimeoutMs, target, tries: 1, retryAt: this.now + rto };
    this.known.set(addrKey(target), target.name);
    this.sendLoose(target, this.findEvent(qid, eventId), 1);
  }

  private findEvent(qid: number, eventId: number): Unnumbered<MessageOf<'find-event'>> {
    return { t: 'find-event', qid, eventId, sender: this.meTuple(), remaining: null, idSeq: [] };
  }

  private onQueryTimeout(job: Extract<Job, { kind: 'query' }>): void {
    if (this.now < job.retryAt) return;
    if (this.now >= job.deadline) {
      this.print(`query-dht: no answer for event ${job.eventId} from ${job.target.name} within ${this.config.queryTimeoutMs / 1000} s (${job.tries} tries)`);
      this.job = null;
      return;
    }
    job.tries += 1;
    const backoff = Math.min(this.config.retry.maxRtoMs, this.outbox.rto(job.target) * 2 ** (job.tries - 1));
    job.retryAt = Math.min(job.deadline, this.now + backoff);
    this.sendLoose(job.target, this.findEvent(job.qid, job.eventId), job.tries);
  }

  private onFindEvent(m: MessageOf<'find-event'>): string | null {
    const ring = this.ring;
    if (!ring) return 'this peer is not in a DHT';
    const bad = walkProblem(m, ring);
    if (bad) return `bad find-event: ${bad}`;
    this.known.set(addrKey(m.sender), m.sender.name);
    const pos = positionOf(m.eventId, ring.s);
    const target = nodeOf(pos, ring.n);
    const idSeq = m.remaining === null ? [ring.id] : m.idSeq;
    const line = this.table.find(pos, m.eventId);
    const rec = line === undefined ? undefined : fromLine(line) ?? undefined;
    const remaining = m.remaining ?? ring.peers.map((_, i) => i).filter((i) => i !== ring.id);
    if (rec || target === ring.id || remaining.length === 0) {
      this.sendLoose(m.sender, { t: 'event-result', qid: m.qid, eventId: m.eventId, found: rec !== undefined, ...(rec ? { record: rec } : {}), idSeq, by: this.me!.name });
      return null;
    }
    const pick = Math.floor(this.env.random() * remaining.length);
    const next = remaining[pick]!;
    this.sendLoose(ring.peers[next]!, {
      t: 'find-event', qid: m.qid, eventId: m.eventId, sender: m.sender,
      remaining: remaining.filter((_, i) => i !== pick), idSeq: [...idSeq, next],
    });
    return null;
  }

  private onEventResult(from: Addr, m: MessageOf<'event-result'>): string | null {
    const job = this.job;
    if (job?.kind !== 'query' || job.qid !== m.qid) return null; // a late answer to a finished query
    this.job = null;
    if (m.by) this.known.set(addrKey(from), m.by);
    if (m.found && m.record) {
      COLUMNS.forEach((c, i) => this.print(`${c}: ${printable(m.record![i]!)}`));
    } else {
      this.print(`Storm event ${m.eventId} not found in the DHT.`);
    }
    this.print(`id-seq: ${m.idSeq.join(', ')}`);
    this.print(`query-dht: answered in ${this.elapsed()} ms`);
    return null;
  }

  // ---------------------------------------------------------------- failures

  private onDissolved(text: string): void {
    const had = this.ring !== null;
    this.lastResetOrigin = null;
    this.ring = null;
    this.table.clear();
    this.pipe = null;
    this.lead = null;
    this.op = null;
    this.setIdsPending.clear();
    this.setupData = null;
    this.outbox.drop((p) => p.tag.kind === 'p2p');
    if (this.job && ['setup', 'leave', 'join', 'teardown'].includes(this.job.kind)) this.job = null;
    this.print(`dissolved: ${text}${had ? '; this peer left the ring and is Free' : ''}`);
  }

  private onSendFailed(p: Pending<Message & { rid: number }, Tag>): void {
    if (p.tag.kind === 'cmd') {
      const pending = this.pendingCmd;
      if (!pending || pending.rid !== p.rid) return;
      this.pendingCmd = null;
      pending.onRes({ t: 'res', rid: p.rid, cmd: p.tag.cmd, code: 'FAILURE', reason: 'NO_RESPONSE',
        text: `the manager at ${this.manager.ip}:${this.manager.port} did not answer after ${p.tries} tries` });
      return;
    }
    const why = `${p.tag.to} (${p.to.ip}:${p.to.port}) did not acknowledge ${p.tag.t} after ${p.tries} tries`;
    if (p.tag.t === 'set-id' && this.setIdsPending.delete(p.rid)) return this.abort(`setup-dht: ${why}`);
    if (p.tag.pipe !== null) return this.onPipeFailed(p.tag.pipe, why);
    const job = this.job;
    if (this.lead?.notify) return this.failDistribution(why);
    if (job && ['setup', 'leave', 'join'].includes(job.kind)) return this.abort(`${job.kind}: ${why}`);
    if (job?.kind === 'teardown') {
      this.job = null;
      this.op = null;
      return this.print(`teardown-dht: ${why}; the manager will give up waiting and free the peers`);
    }
    this.print(`error: ${why}`);
  }

  /**
   * The store stream toward the right neighbour is broken: stop it, and make sure the leader hears
   * of it at once, so the setup or rebuild is aborted now rather than when the manager gives up.
   */
  private onPipeFailed(pipe: Pipeline, why: string): void {
    this.outbox.drop((q) => q.tag.kind === 'p2p' && q.tag.pipe === pipe);
    if (pipe !== this.pipe) return; // a stream already abandoned
    this.pipe = null;
    const ring = this.ring;
    if (!ring) return;
    if (ring.id === 0) return this.failDistribution(why);
    this.print(`store: ${why}; telling the leader ${ring.peers[0]!.name}`);
    this.sendPeer(ring.peers[0]!, { t: 'store-failed', epoch: ring.epoch, text: sentence(why) });
  }

  private onStoreFailed(from: Addr, m: MessageOf<'store-failed'>): string | null {
    const ring = this.ring;
    if (!ring || !this.inRing(from)) return 'not from a member of this ring';
    if (ring.id !== 0 || !this.lead || m.epoch !== ring.epoch) return null; // nothing of ours to fail: acknowledge and drop
    this.failDistribution(`${this.nameOf(from) ?? `${from.ip}:${from.port}`} reports: ${m.text}`);
    return null;
  }

  /** A setup or rebuild this peer leads cannot finish. */
  private failDistribution(why: string): void {
    const lead = this.lead;
    this.lead = null;
    this.pipe = null;
    if (lead?.notify) return this.rebuildFailed(lead.notify, why);
    if (this.job?.kind === 'setup') return this.abort(`setup-dht: ${why}`);
    this.print(`error: ${why}`);
  }

  /** A setup, leave or join this peer drives cannot finish: say so and free the manager. */
  private abort(why: string): void {
    this.print(why);
    this.lastResetOrigin = null;
    this.lead = null;
    this.pipe = null;
    this.op = null;
    this.setupData = null;
    this.setIdsPending.clear();
    if (this.job?.kind === 'setup' || this.job?.kind === 'leave' || this.job?.kind === 'join') this.ring = null;
    this.table.clear();
    this.outbox.drop((p) => p.tag.kind === 'p2p');
    this.job = { kind: 'cmd' };
    this.sendCommand('dht-abort', [this.me!.name], (res) => {
      this.job = null;
      this.onResponse('dht-abort', [], res);
    });
  }

  // ---------------------------------------------------------------- sending

  private sendPeer(to: Tuple, body: Unnumbered<PeerMessage>, pipe: Pipeline | null = null): PeerMessage {
    const addr = { ip: to.ip, port: to.port };
    const msg = this.outbox.send(this.now, addr, body as WithoutRid<Message & { rid: number }>, { kind: 'p2p', t: body.t, to: to.name, pipe }) as PeerMessage;
    this.emitSend('p', addr, msg, 1);
    return msg;
  }

  /** A message retried end to end by its originator, so not kept for retransmission here. */
  private sendLoose(to: Tuple, body: Unnumbered<PeerMessage>, attempt = 1): void {
    const addr = { ip: to.ip, port: to.port };
    this.emitSend('p', addr, this.outbox.stamp(body as WithoutRid<Message & { rid: number }>), attempt);
  }

  private emitSend(via: Via, to: Addr, msg: Message, attempt: number): void {
    this.out.push({ kind: 'send', via, to, msg, attempt });
  }

  private onAck(from: Addr, rid: number): void {
    const p = this.outbox.settle(rid, from, this.now);
    if (p?.tag.kind !== 'p2p') return;
    if (p.tag.pipe !== null && p.tag.pipe === this.pipe) this.onPipeAck();
    else if (p.tag.t === 'set-id') this.onSetIdAcked(p.rid);
  }

  /** Acknowledge a request (delayed and coalesced with others: reliable/acks.ts). */
  private ack(via: Via, to: Addr, rid: number): void {
    const full = this.acks.add(this.now, via, to, rid);
    if (full) this.out.push({ kind: 'send', via: full.via, to: full.to, msg: full.msg, attempt: 1 });
  }

  private complain(from: Addr, t: string, why: string): void {
    this.out.push({ kind: 'note', verdict: 'ignored' });
    // Keyed without numbers, so 'n = 7 but 2 peers' and 'n = 8 but 3 peers' count as one kind.
    const line = this.complaints.note(this.now, `${t}:${why.replace(/[0-9]+/g, '#')}`, `ignored ${t} from ${from.ip}:${from.port}: ${why}`);
    if (line) this.print(line);
  }

  private print(text: string): void {
    this.out.push({ kind: 'print', text });
  }

  private elapsed(): string {
    return (this.now - this.opStartedAt).toFixed(1);
  }

  private meTuple(): Tuple {
    const me = this.me!;
    return { name: me.name, ip: me.ip, port: me.pport };
  }

  private rememberTuples(peers: Tuple[]): void {
    for (const p of peers) this.known.set(addrKey(p), p.name);
  }

  private newEpoch(): number {
    return Math.floor(this.env.random() * 1e9);
  }
}
