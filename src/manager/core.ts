// The manager as a pure state machine: a datagram, a console line or a timeout in; a list of
// effects (send, print, note, exit) out. No socket, clock or random source inside: `now` comes
// with every call and randomness through `env`, so the simulation runs this very code.
//
// A request goes through the rule table (rules.ts: may this sender do this in this phase, and
// which phase follows) and its handler (handlers.ts: argument syntax, value checks, effect);
// this file holds the transport around them (answer cache, acks, dissolved notices), the
// console, the wait deadline and the phase transitions.
import type { Message, MessageOf, Notice, Unnumbered } from '../protocol/messages.js';
import { numberOf, sameSecret } from '../protocol/secrets.js';
import { Outbox, requestKey, type Addr } from '../reliable/index.js';
import { MANAGER_COMMANDS, helpText, isPeerName, parseLine } from '../console/commands.js';
import { Complaints } from '../console/ratelimit.js';
import { arity as arityOf, isManagerRequest } from '../protocol/requests.js';
import type { Effect } from '../runtime/effects.js';
import { assert } from '../runtime/assert.js';
import { EARLY_REASONS, WAITING_FOR, isWaiting, verdict, type Phase, type Reason } from './rules.js';
import { HANDLERS, fail, refusalText, type Ctx, type Outcome } from './handlers.js';
import { count, type Dht } from './state.js';
import { DurableState, type ManagerConfig } from './durable.js';
import { IndirectProbes, pickHelpers } from './indirect.js';
import { RequestIds } from './rids.js';

export { tupleOf, type Dht, type PeerEntry, type PeerState } from './state.js';

export type { ManagerConfig } from './durable.js';
export interface ManagerEnv {
  random(): number;
  /** An unguessable value: `crypto.randomBytes` in the program, seeded in the simulation (protocol/secrets.ts). */
  secret(): string;
}

/** The manager's effects: a subset of the shared ones (one socket, so no `via`). */
export type ManagerEffect = Extract<Effect, { kind: 'send' | 'print' | 'note' | 'exit' | 'persist' }>;

export type ManagerInput =
  | { kind: 'datagram'; from: Addr; msg: Message }
  | { kind: 'line'; text: string }
  /** Before serving: the last persisted snapshot (`source` names it for the lines printed). */
  | { kind: 'restored'; state: unknown; source: string };

type Res = MessageOf<'res'>;

export class ManagerCore extends DurableState {
  private readonly complaints = new Complaints();
  /** Request id of the command being handled. */
  private rid = 0;
  private readonly ctx: Ctx;
  readonly indirect = new IndirectProbes();
  /**
   * Each peer's register SUCCESS until the manager first hears from it: a peer that has not got
   * it has no token and cannot answer a probe, so a suspected fresh peer is sent it again instead.
   */
  private readonly registerAnswers = new Map<string, Res>();
  /** The request ids taken from each peer above its floor (rids.ts): several queries may be out at once. */
  private readonly rids = new RequestIds();

  constructor(config: ManagerConfig, private readonly env: ManagerEnv) {
    super(config, new Outbox(config.retry, numberOf(env.secret())));
    const self = this;
    this.ctx = {
      state: this,
      random: () => this.env.random(),
      secret: () => this.env.secret(),
      get rid() { return self.rid; },
      nextDhtId: () => ++this.dhtCount,
      notify: (name, body) => this.notify(name, body),
      dissolve: (d, except, why) => this.dissolve(d, except, why),
    };
  }

  handle(now: number, input: ManagerInput): ManagerEffect[] {
    this.out = [];
    this.now = now;
    if (input.kind === 'line') this.onLine(input.text);
    else if (input.kind === 'restored') this.restore(input.state, input.source);
    else this.onDatagram(input.from, input.msg);
    this.checkInvariants();
    this.persistIfChanged();
    return this.out;
  }

  onTimeout(now: number): ManagerEffect[] {
    this.out = [];
    this.now = now;
    const { resend, failed } = this.outbox.expire(now);
    for (const p of resend) this.out.push({ kind: 'send', to: p.to, msg: p.msg, attempt: p.tries });
    for (const p of failed) this.print(`warning: ${p.tag} did not acknowledge that its DHT was dissolved (${count(p.tries, 'try', 'tries')})`);
    if (this.dht?.deadline !== undefined && now >= this.dht.deadline) this.giveUp();
    this.checkLiveness(now);
    this.checkInvariants();
    this.persistIfChanged();
    return this.out;
  }

  /** Entries of every bounded structure, for the soak test: flat over a long life. */
  footprint(): Record<string, number> {
    const a = this.answers.held();
    return { peers: this.peers.size, outbox: this.outbox.size, answerCaches: a.caches, answerBytes: a.memberBytes + a.othersBytes + a.departedBytes, complaintKinds: this.complaints.kinds };
  }

  nextDeadline(): number | undefined {
    const times = [this.outbox.nextDeadline(), this.dht?.deadline, this.liveness?.nextDeadline()];
    return times.reduce<number | undefined>((d, t) => (t !== undefined && (d === undefined || t < d) ? t : d), undefined);
  }

  /** Name of the peer at an address (m-port or p-port), for the trace. */
  nameOf(addr: Addr): string | undefined {
    return this.nameAt(addr.ip, addr.port);
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

  // ---- datagrams ----

  private onDatagram(from: Addr, msg: Message): void {
    if (msg.t === 'ack') {
      this.outbox.settle(msg.rid, from, this.now);
      for (const rid of msg.more ?? []) this.outbox.settle(rid, from, this.now);
      return;
    }
    if (msg.t === 'alive') return this.onAlive(from, msg.tok, msg.nonce);
    if (msg.t !== 'cmd') {
      this.out.push({ kind: 'note', verdict: 'ignored' });
      const line = this.complaints.note(this.now, `ignored:${msg.t}`, `ignored ${msg.t} from ${from.ip}:${from.port}: the manager only takes commands`);
      if (line) this.print(line);
      return;
    }
    const key = requestKey(from.ip, from.port, msg.rid);
    const cached = this.answers.get(from, key);
    if (cached) {
      // A retransmitted request: answer it again, never apply it twice.
      this.out.push({ kind: 'note', verdict: 'duplicate' });
      this.out.push({ kind: 'send', to: from, msg: cached, attempt: 1 });
      // Its sender lives (a register retransmitted because the answer, with the token, was lost).
      const sender = this.peerAt(from);
      if (sender) this.liveness?.retransmitted(sender.name, this.now);
      return;
    }
    // A registered address speaks only with its token and with ever higher request ids: anything
    // else is forged or replayed, and gets no answer at all (an answer would go to the real peer,
    // with its token). Exact retransmissions were answered from the cache above.
    // (`register` carries no token: from a registered address it is that peer's process started
    // again on its old ports. It replaces a Free peer's entry (handlers.ts) and is refused, without
    // the token, for a member, so the restarted peer hears why.)
    const owner = msg.cmd === 'register' ? undefined : this.peerAt(from);
    if (owner) {
      const why = !sameSecret(msg.tok, owner.token) ? `without ${owner.name}'s token`
        : !this.rids.fresh(owner, msg.rid, msg.cmd === 'query-dht') ? `with an old request id (a replay)` : null;
      if (why !== null) {
        this.out.push({ kind: 'note', verdict: 'ignored' });
        const line = this.complaints.note(this.now, `refused:BAD_TOKEN`, `ignored ${msg.cmd.slice(0, 20)} from ${from.ip}:${from.port} (BAD_TOKEN): ${why}`);
        if (line) this.print(line);
        return;
      }
      this.rids.take(owner, msg.rid);
      this.liveness?.heard(owner.name, this.now);
    }
    this.rid = msg.rid;
    const outcome = this.execute(from, msg.cmd, msg.args, msg.counts);
    const text = clip(outcome.text);
    // Every response to a registered peer carries its token (a deregistered one's for the last time).
    const tok = owner ? (this.peerAt(from) ?? owner).token
      : msg.cmd === 'register' && outcome.ok ? this.peerAt(from)?.token : undefined;
    // A peer that registers is told to send `alive` (PROTOCOL §4.11) when the manager detects failures.
    const hb = msg.cmd === 'register' && outcome.ok && this.liveness ? this.liveness.config.heartbeatMs : undefined;
    const res: Res = outcome.ok
      ? { t: 'res', rid: msg.rid, cmd: msg.cmd.slice(0, 20), code: 'SUCCESS', text, ...(hb !== undefined ? { hb } : {}),
          ...(outcome.peers ? { peers: outcome.peers } : {}), ...(outcome.peer ? { peer: outcome.peer } : {}),
          ...(outcome.dht !== undefined ? { dht: outcome.dht } : {}),
          ...(outcome.sec !== undefined ? { sec: outcome.sec } : {}), ...(outcome.cap !== undefined ? { cap: outcome.cap } : {}),
          ...(tok !== undefined ? { tok } : {}) }
      : { t: 'res', rid: msg.rid, cmd: msg.cmd.slice(0, 20), code: 'FAILURE', reason: outcome.reason, text, ...(tok !== undefined ? { tok } : {}) };
    this.answers.remember(from, key, res);
    if (msg.cmd === 'register' && outcome.ok && this.liveness) this.registerAnswers.set(msg.args[0]!, res);
    // Every SUCCESS but query-dht's changes the state (a FAILURE never does); its answer is saved
    // with it, so a retransmission after a restart gets it again.
    if (outcome.ok && msg.cmd !== 'query-dht') this.changedBy(from, res);
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

  /** The order of checks of PROTOCOL §3.2: the first failing one answers. */
  private execute(from: Addr, cmd: string, args: string[], counts?: readonly number[]): Outcome {
    if (!isManagerRequest(cmd)) return fail('UNKNOWN_COMMAND', `'${cmd.slice(0, 20)}' is not a manager command`);
    const request = cmd;
    const arity = arityOf(request);
    if (args.length < arity[0] || args.length > arity[1]) return fail('BAD_ARGUMENTS', `${cmd} takes ${arity[0]}${arity[1] > arity[0] ? `–${arity[1]}` : ''} arguments, got ${args.length}`);
    const name = args[0]!;
    if (!isPeerName(name)) return fail('BAD_ARGUMENTS', `'${name.slice(0, 20)}' is not a peer name`);
    if (request === 'register') this.reclaim(from, name, args);
    const before = this.phase;
    const v = verdict(before, request, this.roleOf(name));
    const refuse = (reason: Reason): Outcome => fail(reason, refusalText(this, request, reason, name));
    // BUSY and NOT_REGISTERED come first; the table's other reasons after the sender's address
    // and the argument syntax are checked.
    if (!v.ok && EARLY_REASONS.includes(v.reason)) return refuse(v.reason);
    if (request !== 'register') {
      const peer = this.peers.get(name);
      assert(peer !== undefined, `the table refuses ${request} from an unregistered name`);
      if (peer.ip !== from.ip || peer.mport !== from.port) {
        return fail('NOT_OWNER', `${peer.name} is registered at ${peer.ip}:${peer.mport}; this request came from ${from.ip}:${from.port}`);
      }
    }
    const handler = HANDLERS[request];
    const parsed = handler.parse(args);
    if (!parsed.ok) return fail('BAD_ARGUMENTS', parsed.text);
    if (!v.ok) return refuse(v.reason);
    const outcome = handler.run(this.ctx, { name, from, ...(counts ? { counts } : {}) }, parsed.value);
    if (outcome.ok) this.enter(before, v.next, name);
    return outcome;
  }

  /** After a SUCCESS: the table's next phase, with the initiator and the wait deadline that go with it. */
  private enter(before: Phase, next: Phase, sender: string): void {
    if (next === 'none') {
      this.dht = null;
      return;
    }
    const d = this.dht;
    assert(d !== null, `a DHT exists on entering ${next}`);
    d.phase = next;
    if (next === 'leaving' || next === 'joining' || next === 'repairing') d.initiator = sender;
    else delete d.initiator;
    if (!isWaiting(next)) delete d.deadline;
    else if (next !== before) d.deadline = this.now + this.config.waitTimeoutMs;
  }

  // ---- failure detection (liveness.ts, PROTOCOL §4.11) ----

  override removePeer(name: string): void {
    this.registerAnswers.delete(name);
    super.removePeer(name);
  }

  /**
   * `alive` from a peer's m-port with its token: it lives, and with a nonce, the suspect it pinged
   * for the manager (an indirect probe) lives too. Anything else is dropped, uncounted.
   */
  private onAlive(from: Addr, tok: string, nonce: string | undefined): void {
    const owner = this.peerAt(from);
    if (!owner || !sameSecret(tok, owner.token)) {
      this.out.push({ kind: 'note', verdict: 'ignored' });
      return;
    }
    this.liveness?.heard(owner.name, this.now);
    this.registerAnswers.delete(owner.name);
    const vouched = nonce === undefined ? null : this.indirect.answered(this.now, owner.name, nonce);
    if (vouched !== null) this.liveness?.heard(vouched, this.now);
  }

  private checkLiveness(now: number): void {
    const l = this.liveness;
    if (!l || now < (l.nextDeadline() ?? Infinity)) return;
    const due = l.due(now);
    for (const name of due.probe) {
      const p = this.peers.get(name);
      if (!p) continue;
      const again = l.isFresh(name) ? this.registerAnswers.get(name) : undefined;
      if (!l.isFresh(name)) this.registerAnswers.delete(name);
      this.out.push({ kind: 'send', to: { ip: p.ip, port: p.mport }, msg: again ?? { t: 'probe', rid: 0, tok: p.token }, attempt: 1 });
    }
    for (const name of due.indirect) {
      const p = this.peers.get(name);
      if (!p) continue;
      for (const s of this.indirect.ask(this.now, p, pickHelpers(this.peers.values(), name, (h) => l.isSuspected(h, now), () => this.env.random()), () => this.env.secret())) this.out.push({ kind: 'send', ...s, attempt: 1 });
    }
    for (const d of due.dead) {
      this.indirect.forget(d.name);
      this.declareDead(d.name, d.silentMs);
    }
  }


  /**
   * The manager declares a peer dead: nothing came from it for `deadMs`, probes included. Its
   * registration is removed (its name and ports are free again). A member of a ready DHT is
   * repaired around (repair below); in any other phase a DHT it is involved in is dissolved, as
   * when the manager gives up waiting.
   */
  private declareDead(name: string, silentMs: number): void {
    if (!this.peers.has(name)) return;
    const d = this.dht;
    const involved = d !== null && (d.members.includes(name) || d.initiator === name);
    this.print(`liveness: ${name} declared dead (nothing heard from it for ${(silentMs / 1000).toFixed(1)} s, probes unanswered)`);
    if (d && involved) {
      if (d.phase === 'ready' && d.members.length >= 2) this.repair(d, name);
      else this.dissolve(d, name, `${name} (${this.roleWords(d, name)}) is dead`);
    }
    this.outbox.drop((p) => p.tag === name);
    const p = this.peers.get(name)!;
    this.answers.forget({ ip: p.ip, port: p.mport });
    this.removePeer(name);
    this.changed = true;
    this.print(`liveness: ${name} deregistered; ${count(this.peers.size, 'peer')} ${this.peers.size === 1 ? 'remains' : 'remain'}`);
  }

  /** What a dead peer was to its DHT, in words: the one the manager waited for comes first. */
  private roleWords(d: Dht, name: string): string {
    if (d.initiator === name) return `the ${d.phase === 'joining' ? 'joiner' : d.phase === 'repairing' ? 'repairer' : 'leaver'}`;
    return d.leader === name ? 'the leader' : 'a member';
  }

  /**
   * A member of a ready DHT is dead (PROTOCOL §4.12): the ring goes on without it. The members
   * keep their ring order; the leader stays, or the next member leads when the leader is the dead
   * one. That leader is told to repair (renumber, rebuild from the file, report dht-rebuilt), and
   * the manager waits for it as for a leave.
   */
  private repair(d: Dht, dead: string): void {
    const wasLeader = d.leader === dead;
    d.members = d.members.filter((m) => m !== dead);
    const repairer = d.members[0];
    assert(repairer !== undefined, 'a repaired ring keeps a member');
    d.leader = repairer;
    d.phase = 'repairing';
    d.initiator = repairer;
    d.deadline = this.now + this.config.waitTimeoutMs;
    delete d.counts;
    this.print(`liveness: ${dead} was ${wasLeader ? 'the leader' : 'a member'}; ${repairer} ${wasLeader ? 'leads now and ' : ''}repairs the DHT without it (${count(d.members.length, 'member')}); waiting for dht-rebuilt`);
    this.notify(repairer, { t: 'repair', dht: d.id, dead });
  }

  /**
   * A program started again on a registered peer's address asks to register its old name: if
   * detection (`--detect`) has heard nothing from the registered process for its suspicion time,
   * it is declared dead now instead of 1 s later, and the register goes on as for a new name.
   * Never without detection, and never for a peer that still answers: a forged source address
   * must not take a live peer's registration away.
   */
  private reclaim(from: Addr, name: string, args: string[]): void {
    const old = this.peers.get(name);
    if (!old || !this.liveness || !this.liveness.isSuspected(name, this.now)) return;
    if (old.ip !== from.ip || old.mport !== from.port || String(old.mport) !== args[2] || String(old.pport) !== args[3]) return;
    this.liveness.forget(name);
    this.declareDead(name, this.now - (this.liveness.lastHeard(name) ?? this.now));
  }

  // ---- giving up ----

  /** The peer we wait for went silent: free everyone so the system is usable again. */
  private giveUp(): void {
    const d = this.dht!;
    const what = WAITING_FOR[d.phase] ?? d.phase;
    const who = this.waitingOn();
    this.dissolve(d, null, `the manager gave up waiting for ${what} from ${who} after ${Math.round(this.config.waitTimeoutMs / 1000)} s`);
  }

  /** Drop the DHT (every member is Free again) and tell everyone involved but `except`. */
  private dissolve(d: Dht, except: string | null, why: string): void {
    const involved = new Set(d.members);
    if (d.initiator) involved.add(d.initiator);
    this.dht = null;
    this.changed = true;
    this.print(`${why}; the DHT is dissolved and its peers are Free`);
    for (const name of involved) {
      const p = this.peers.get(name);
      if (!p || name === except) continue;
      this.notify(p.name, { t: 'dissolved', dht: d.id, text: why.slice(0, 300) });
    }
  }

  /** A notice to a registered peer's m-port, with its token; retransmitted until acknowledged. */
  private notify(name: string, body: DistributiveOmit<Notice, 'rid' | 'tok'>): void {
    const p = this.peers.get(name);
    if (!p) return;
    const to = { ip: p.ip, port: p.mport };
    const msg = this.outbox.send(this.now, to, { ...body, tok: p.token } as Unnumbered<Notice>, p.name);
    this.out.push({ kind: 'send', to, msg, attempt: 1 });
  }

  protected print(text: string): void {
    this.out.push({ kind: 'print', text });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Response sentences fit the schema's 300 characters however large the ring. */
function clip(text: string): string {
  return text.length <= 300 ? text : `${text.slice(0, 297)}...`;
}
