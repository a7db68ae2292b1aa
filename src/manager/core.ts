// The manager as a pure state machine: a datagram, a console line or a timeout in; a list of
// effects (send, print, exit) out. No socket, clock or random source inside: `now` comes with
// every call and randomness through `env`, so the simulation runs this very code.
import { MAX_RING, type Message, type MessageOf, type Tuple } from '../protocol/messages.js';
import { Outbox, Recent, addrKey, requestKey, type Addr, type RetryPolicy } from '../reliable/index.js';
import { MANAGER_COMMANDS, helpText, isPeerName, parseCount, parseIpv4, parseLine, parsePort, parseYear } from '../console/commands.js';
import { Complaints } from '../console/ratelimit.js';
import { isBusyFor, WAITING_FOR, type Phase, type Reason } from './rules.js';
import { arity as arityOf, isManagerRequest, type ManagerRequest } from '../protocol/requests.js';
import type { Effect } from '../runtime/effects.js';

export type PeerState = 'Free' | 'Leader' | 'InDHT';

export interface PeerEntry { name: string; ip: string; mport: number; pport: number; state: PeerState }

export interface Dht {
  phase: Exclude<Phase, 'none'>;
  leader: string;
  members: string[];
  /** Peer whose leave or join is pending. */
  initiator?: string;
  year: number;
  /** This DHT's number, unique within the manager's life: stale `dissolved` messages name an older one. */
  id: number;
  /** When the manager stops waiting for the pending operation. */
  deadline?: number;
}

export interface ManagerConfig { waitTimeoutMs: number; retry: RetryPolicy }
export interface ManagerEnv { random(): number }

/** The manager's effects: a subset of the shared ones (one socket, so no `via`). */
export type ManagerEffect = Extract<Effect, { kind: 'send' | 'print' | 'note' | 'exit' }>;

export type ManagerInput =
  | { kind: 'datagram'; from: Addr; msg: Message }
  | { kind: 'line'; text: string };

type Res = MessageOf<'res'>;
type Outcome = { ok: true; text: string; peers?: Tuple[]; peer?: Tuple; dht?: number } | { ok: false; reason: Reason; text: string };

const fail = (reason: Reason, text: string): Outcome => ({ ok: false, reason, text });

export class ManagerCore {
  readonly peers = new Map<string, PeerEntry>();
  dht: Dht | null = null;
  /**
   * Answers kept for retransmitted requests: per registered address, so that a flood of forged
   * commands from elsewhere (kept in `answeredOthers`) cannot push a real peer's answer out.
   */
  private readonly answeredBy = new Map<string, Recent<Res>>();
  private readonly answeredOthers = new Recent<Res>(4096);
  private readonly outbox: Outbox<MessageOf<'dissolved'>, string>;
  private out: ManagerEffect[] = [];
  private dhtCount = 0;
  private readonly complaints = new Complaints();
  /** Time of the event being handled (the cores never read a clock). */
  private now = 0;

  constructor(private readonly config: ManagerConfig, private readonly env: ManagerEnv) {
    this.outbox = new Outbox(config.retry, Math.floor(env.random() * 2 ** 40));
  }

  get phase(): Phase {
    return this.dht?.phase ?? 'none';
  }

  handle(now: number, input: ManagerInput): ManagerEffect[] {
    this.out = [];
    this.now = now;
    if (input.kind === 'line') this.onLine(input.text);
    else this.onDatagram(now, input.from, input.msg);
    return this.out;
  }

  onTimeout(now: number): ManagerEffect[] {
    this.out = [];
    this.now = now;
    const { resend, failed } = this.outbox.expire(now);
    for (const p of resend) this.out.push({ kind: 'send', to: p.to, msg: p.msg, attempt: p.tries });
    for (const p of failed) this.print(`warning: ${p.tag} did not acknowledge that its DHT was dissolved (${p.tries} tries)`);
    if (this.dht?.deadline !== undefined && now >= this.dht.deadline) this.giveUp();
    return this.out;
  }

  nextDeadline(): number | undefined {
    const a = this.outbox.nextDeadline();
    const b = this.dht?.deadline;
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /** Name of the peer at an address (m-port or p-port), for the trace. */
  nameOf(addr: Addr): string | undefined {
    for (const p of this.peers.values()) {
      if (p.ip === addr.ip && (p.mport === addr.port || p.pport === addr.port)) return p.name;
    }
    return undefined;
  }

  // ---- console ----

  private onLine(text: string): void {
    const parsed = parseLine(text, MANAGER_COMMANDS);
    if (parsed.kind === 'empty') return;
    if (parsed.kind === 'error') return this.print(parsed.text);
    if (parsed.cmd === 'help') for (const l of helpText(MANAGER_COMMANDS)) this.print(l);
    else if (parsed.cmd === 'status') for (const l of this.statusLines()) this.print(l);
    else if (parsed.cmd === 'quit') this.out.push({ kind: 'exit', code: 0 });
  }

  statusLines(): string[] {
    const d = this.dht;
    const lines = [d
      ? `DHT: ${d.phase}, year ${d.year}, leader ${d.leader}, ${d.members.length} members (${d.members.join(', ')})` +
        (d.initiator ? `, pending ${d.phase} of ${d.initiator}` : '')
      : 'DHT: none'];
    lines.push(`peers: ${this.peers.size} registered`);
    for (const p of this.peers.values()) lines.push(`  ${p.name.padEnd(15)} ${p.ip}  m-port ${p.mport}  p-port ${p.pport}  ${p.state}`);
    return lines;
  }

  // ---- datagrams ----

  private onDatagram(now: number, from: Addr, msg: Message): void {
    if (msg.t === 'ack') {
      this.outbox.settle(msg.rid, from, this.now);
      for (const rid of msg.more ?? []) this.outbox.settle(rid, from, this.now);
      return;
    }
    if (msg.t !== 'cmd') {
      this.out.push({ kind: 'note', verdict: 'ignored' });
      const line = this.complaints.note(this.now, `ignored:${msg.t}`, `ignored ${msg.t} from ${from.ip}:${from.port}: the manager only takes commands`);
      if (line) this.print(line);
      return;
    }
    const key = requestKey(from.ip, from.port, msg.rid);
    const cached = this.answeredBy.get(addrKey(from))?.get(key) ?? this.answeredOthers.get(key);
    if (cached) {
      // A retransmitted request: answer it again, never apply it twice.
      this.out.push({ kind: 'note', verdict: 'duplicate' });
      this.out.push({ kind: 'send', to: from, msg: cached, attempt: 1 });
      return;
    }
    const outcome = this.execute(now, from, msg.cmd, msg.args);
    const text = clip(outcome.text);
    const res: Res = outcome.ok
      ? { t: 'res', rid: msg.rid, cmd: msg.cmd.slice(0, 20), code: 'SUCCESS', text,
          ...(outcome.peers ? { peers: outcome.peers } : {}), ...(outcome.peer ? { peer: outcome.peer } : {}),
          ...(outcome.dht !== undefined ? { dht: outcome.dht } : {}) }
      : { t: 'res', rid: msg.rid, cmd: msg.cmd.slice(0, 20), code: 'FAILURE', reason: outcome.reason, text };
    this.remember(from, key, res);
    const summary = outcome.ok ? 'SUCCESS' : `FAILURE ${outcome.reason}`;
    const line = `${msg.cmd.slice(0, 20)} ${msg.args.join(' ')}: ${summary} — ${outcome.text}`;
    if (outcome.ok || this.nameOf(from) !== undefined) this.print(line);
    else {
      this.out.push({ kind: 'note', verdict: 'ignored' });
      // Refusals of strangers (impostors, fuzzers) are counted, not each printed.
      const counted = this.complaints.note(this.now, `refused:${outcome.reason}`, line);
      if (counted) this.print(counted);
    }
    this.out.push({ kind: 'send', to: from, msg: res, attempt: 1 });
  }

  private remember(from: Addr, key: string, res: Res): void {
    const addr = addrKey(from);
    let mine = this.answeredBy.get(addr);
    if (!mine && res.code === 'SUCCESS' && res.cmd === 'register') {
      if (this.answeredBy.size >= MAX_ANSWER_CACHES) this.forgetDeparted();
      mine = new Recent<Res>(64);
      this.answeredBy.set(addr, mine);
    }
    (mine ?? this.answeredOthers).set(key, res);
  }

  /** Drop the answer caches of addresses no longer registered (bounded memory over a long life). */
  private forgetDeparted(): void {
    const live = new Set([...this.peers.values()].map((p) => `${p.ip}:${p.mport}`));
    for (const addr of this.answeredBy.keys()) if (!live.has(addr)) this.answeredBy.delete(addr);
  }

  private execute(now: number, from: Addr, cmd: string, args: string[]): Outcome {
    if (!isManagerRequest(cmd)) return fail('UNKNOWN_COMMAND', `'${cmd.slice(0, 20)}' is not a manager command`);
    const request = cmd;
    const arity = arityOf(request);
    if (args.length < arity[0] || args.length > arity[1]) return fail('BAD_ARGUMENTS', `${cmd} takes ${arity[0]}${arity[1] > arity[0] ? `–${arity[1]}` : ''} arguments, got ${args.length}`);
    if (!isPeerName(args[0]!)) return fail('BAD_ARGUMENTS', `'${args[0]!.slice(0, 20)}' is not a peer name`);
    if (isBusyFor(this.phase, request)) {
      return fail('BUSY', `the manager is waiting for ${WAITING_FOR[this.phase]} from ${this.waitingOn()}; try again after it`);
    }
    if (request === 'register') return this.register(from, args);
    const peer = this.peers.get(args[0]!);
    if (!peer) return fail('NOT_REGISTERED', `${args[0]} is not registered`);
    if (peer.ip !== from.ip || peer.mport !== from.port) {
      return fail('NOT_OWNER', `${peer.name} is registered at ${peer.ip}:${peer.mport}; this request came from ${from.ip}:${from.port}`);
    }
    return this.dispatch(now, request, peer, args);
  }

  private dispatch(now: number, request: Exclude<ManagerRequest, 'register'>, peer: PeerEntry, args: string[]): Outcome {
    switch (request) {
      case 'setup-dht': return this.setupDht(now, peer, args);
      case 'dht-complete': return this.dhtComplete(peer);
      case 'query-dht': return this.queryDht(peer);
      case 'leave-dht': return this.leaveDht(now, peer);
      case 'join-dht': return this.joinDht(now, peer);
      case 'dht-rebuilt': return this.dhtRebuilt(peer, args[1]!);
      case 'deregister': return this.deregister(peer);
      case 'teardown-dht': return this.teardownDht(now, peer);
      case 'teardown-complete': return this.teardownComplete(peer);
      case 'dht-abort': return this.dhtAbort(peer);
    }
  }

  private register(from: Addr, args: string[]): Outcome {
    const [name, ipArg, mArg, pArg] = args as [string, string, string, string];
    const ip = parseIpv4(ipArg);
    const mport = parsePort(mArg);
    const pport = parsePort(pArg);
    if (ip === null) return fail('BAD_ARGUMENTS', `'${ipArg.slice(0, 20)}' is not a dotted-decimal IPv4 address`);
    if (mport === null || pport === null) return fail('BAD_ARGUMENTS', 'ports must be whole numbers 1–65535');
    if (mport === pport) return fail('BAD_ARGUMENTS', 'm-port and p-port must differ');
    if (this.peers.has(name)) return fail('DUPLICATE_NAME', `a peer named ${name} is already registered`);
    for (const p of this.peers.values()) {
      for (const port of [mport, pport]) {
        if (port === p.mport || port === p.pport) return fail('PORT_IN_USE', `port ${port} is already used by ${p.name}`);
      }
    }
    if (ip !== from.ip || mport !== from.port) {
      return fail('NOT_OWNER', `a peer registers itself: this request came from ${from.ip}:${from.port}, not ${ip}:${mport}`);
    }
    this.peers.set(name, { name, ip, mport, pport, state: 'Free' });
    return { ok: true, text: `${name} registered at ${ip}, m-port ${mport}, p-port ${pport}; ${this.peers.size} peers registered` };
  }

  private setupDht(now: number, leader: PeerEntry, args: string[]): Outcome {
    const n = parseCount(args[1]!, 1e6);
    const year = parseYear(args[2]!);
    if (n === null) return fail('BAD_ARGUMENTS', `n '${args[1]!.slice(0, 20)}' is not a whole number`);
    if (year === null) return fail('BAD_ARGUMENTS', `year '${args[2]!.slice(0, 20)}' is not between 1950 and 2019`);
    if (this.dht) return fail('DHT_EXISTS', `a DHT led by ${this.dht.leader} already exists`);
    if (n < 3) return fail('N_TOO_SMALL', `n is ${n}; a DHT needs at least 3 peers`);
    if (n > MAX_RING) return fail('N_TOO_LARGE', `n is ${n}; a ring holds at most ${MAX_RING} peers`);
    const free = [...this.peers.values()].filter((p) => p.state === 'Free');
    if (free.length < n) return fail('NOT_ENOUGH_PEERS', `${free.length} peer${free.length === 1 ? ' is' : 's are'} registered, ${n} are needed`);
    const others = this.shuffle(free.filter((p) => p !== leader)).slice(0, n - 1);
    leader.state = 'Leader';
    for (const p of others) p.state = 'InDHT';
    const members = [leader, ...others];
    this.dhtCount += 1;
    this.dht = { phase: 'building', leader: leader.name, members: members.map((p) => p.name), year, id: this.dhtCount, deadline: now + this.config.waitTimeoutMs };
    return { ok: true, text: `${leader.name} leads a DHT of ${n}: ${members.map((p) => p.name).join(', ')}`, peers: members.map(tupleOf), dht: this.dhtCount };
  }

  private dhtComplete(peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d) return fail('NO_DHT', 'there is no DHT to complete');
    if (d.leader !== peer.name) return fail('NOT_LEADER', `${peer.name} is not the leader (${d.leader} is)`);
    const repeat = d.phase === 'ready';
    d.phase = 'ready';
    delete d.deadline;
    return { ok: true, text: repeat ? 'the DHT was already ready' : `the DHT of ${d.members.length} led by ${d.leader} is ready` };
  }

  private queryDht(peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d || d.phase !== 'ready') return fail('NO_DHT', 'there is no ready DHT to query');
    if (peer.state !== 'Free') return fail('NOT_FREE', `${peer.name} is in the DHT; only a Free peer may query it`);
    const entry = this.peers.get(d.members[Math.floor(this.env.random() * d.members.length)]!)!;
    return { ok: true, text: `ask ${entry.name}`, peer: tupleOf(entry) };
  }

  private leaveDht(now: number, peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d || d.phase !== 'ready') return fail('NO_DHT', 'there is no ready DHT to leave');
    if (!d.members.includes(peer.name)) return fail('NOT_MEMBER', `${peer.name} is not in the DHT`);
    if (d.members.length === 1) return fail('LAST_MEMBER', `${peer.name} is the only member; use teardown-dht`);
    this.startWait(now, d, 'leaving', peer.name);
    return { ok: true, text: `${peer.name} may leave; waiting for dht-rebuilt` };
  }

  private joinDht(now: number, peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d || d.phase !== 'ready') return fail('NO_DHT', 'there is no ready DHT to join');
    if (peer.state !== 'Free') return fail('NOT_FREE', `${peer.name} is already in the DHT`);
    if (d.members.length >= MAX_RING) return fail('RING_FULL', `the DHT already has ${MAX_RING} members`);
    this.startWait(now, d, 'joining', peer.name);
    const leader = this.peers.get(d.leader)!;
    const others = d.members.filter((m) => m !== d.leader).map((m) => tupleOf(this.peers.get(m)!));
    return { ok: true, text: `${peer.name} may join; ask the leader ${leader.name}`, peer: tupleOf(leader), peers: [tupleOf(leader), ...others], dht: d.id };
  }

  private dhtRebuilt(peer: PeerEntry, newLeader: string): Outcome {
    const d = this.dht;
    if (!d || (d.phase !== 'leaving' && d.phase !== 'joining')) return fail('NOT_PENDING', 'no leave or join is pending');
    if (d.initiator !== peer.name) return fail('NOT_INITIATOR', `the pending ${d.phase === 'leaving' ? 'leave' : 'join'} is ${d.initiator}'s`);
    const members = d.phase === 'leaving' ? d.members.filter((m) => m !== peer.name) : [...d.members, peer.name];
    if (!members.includes(newLeader)) return fail('BAD_LEADER', `${newLeader} is not a member of the rebuilt DHT`);
    const wasLeaving = d.phase === 'leaving';
    peer.state = wasLeaving ? 'Free' : 'InDHT';
    const oldLeader = this.peers.get(d.leader);
    if (oldLeader && oldLeader.name !== newLeader && members.includes(oldLeader.name)) oldLeader.state = 'InDHT';
    this.peers.get(newLeader)!.state = 'Leader';
    // Members in ring order, starting from the new leader, as far as the manager can know it.
    const from = members.indexOf(newLeader);
    d.members = [...members.slice(from), ...members.slice(0, from)];
    d.leader = newLeader;
    d.phase = 'ready';
    delete d.initiator;
    delete d.deadline;
    return { ok: true, text: `${peer.name} ${wasLeaving ? 'left' : 'joined'}; the DHT has ${members.length} members led by ${newLeader}` };
  }

  private deregister(peer: PeerEntry): Outcome {
    if (peer.state !== 'Free') return fail('IN_DHT', `${peer.name} is ${peer.state === 'Leader' ? 'the leader of' : 'in'} the DHT`);
    this.peers.delete(peer.name);
    return { ok: true, text: `${peer.name} deregistered; ${this.peers.size} peers remain` };
  }

  private teardownDht(now: number, peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d || d.phase !== 'ready') return fail('NO_DHT', 'there is no ready DHT to tear down');
    if (d.leader !== peer.name) return fail('NOT_LEADER', `${peer.name} is not the leader (${d.leader} is)`);
    this.startWait(now, d, 'tearing-down', peer.name);
    return { ok: true, text: 'tear it down; waiting for teardown-complete' };
  }

  private teardownComplete(peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d) return fail('NO_DHT', 'there is no DHT');
    if (d.leader !== peer.name) return fail('NOT_LEADER', `${peer.name} is not the leader (${d.leader} is)`);
    if (d.phase !== 'tearing-down') return fail('NOT_PENDING', 'no teardown is pending; send teardown-dht first');
    this.freeAll(d);
    this.dht = null;
    return { ok: true, text: 'the DHT is deleted; all its peers are Free' };
  }

  /** Our extension: the leader (setup) or initiator (leave/join) reports it cannot finish. */
  private dhtAbort(peer: PeerEntry): Outcome {
    const d = this.dht;
    if (!d || (d.phase !== 'building' && d.phase !== 'leaving' && d.phase !== 'joining')) return fail('NOT_PENDING', 'no setup, leave or join is pending');
    const owner = d.phase === 'building' ? d.leader : d.initiator;
    if (owner !== peer.name) return fail('NOT_INITIATOR', `the pending operation is ${owner}'s`);
    this.dissolve(d, peer.name, `${peer.name} aborted the ${d.phase === 'building' ? 'setup' : d.phase === 'leaving' ? 'leave' : 'join'}`);
    return { ok: true, text: 'the DHT is dissolved; its peers are Free' };
  }

  // ---- waiting and giving up ----

  private startWait(now: number, d: Dht, phase: Dht['phase'], initiator: string): void {
    d.phase = phase;
    if (phase === 'leaving' || phase === 'joining') d.initiator = initiator;
    d.deadline = now + this.config.waitTimeoutMs;
  }

  private waitingOn(): string {
    const d = this.dht!;
    return d.phase === 'leaving' || d.phase === 'joining' ? d.initiator! : d.leader;
  }

  /** The peer we wait for went silent: free everyone so the system is usable again. */
  private giveUp(): void {
    const d = this.dht!;
    const what = WAITING_FOR[d.phase] ?? d.phase;
    const who = this.waitingOn();
    this.dissolve(d, null, `the manager gave up waiting for ${what} from ${who} after ${Math.round(this.config.waitTimeoutMs / 1000)} s`);
  }

  private dissolve(d: Dht, except: string | null, why: string): void {
    const involved = new Set(d.members);
    if (d.initiator) involved.add(d.initiator);
    this.freeAll(d);
    this.dht = null;
    this.print(`${why}; the DHT is dissolved and its peers are Free`);
    for (const name of involved) {
      const p = this.peers.get(name);
      if (!p || name === except) continue;
      const msg = this.outbox.send(this.now, { ip: p.ip, port: p.mport }, { t: 'dissolved', dht: d.id, text: why.slice(0, 300) }, p.name);
      this.out.push({ kind: 'send', to: { ip: p.ip, port: p.mport }, msg, attempt: 1 });
    }
  }

  private freeAll(d: Dht): void {
    for (const name of d.members) {
      const p = this.peers.get(name);
      if (p) p.state = 'Free';
    }
  }

  private shuffle<T>(items: T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.env.random() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  private print(text: string): void {
    this.out.push({ kind: 'print', text });
  }
}

/** Addresses with their own answer cache; departed ones are dropped when this many exist. */
const MAX_ANSWER_CACHES = 4096;

/** Response sentences fit the schema's 300 characters however large the ring. */
function clip(text: string): string {
  return text.length <= 300 ? text : `${text.slice(0, 297)}...`;
}

export const tupleOf = (p: PeerEntry): Tuple => ({ name: p.name, ip: p.ip, port: p.pport });

