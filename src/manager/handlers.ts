// What each request does once the rule table (rules.ts) has let its sender make it in this phase:
// its argument syntax (BAD_ARGUMENTS), the checks that depend on argument values, and its effect
// on the peers and the DHT. The phase, the initiator and the deadline are then set by the core
// from the table's next phase. One entry per request: a request added to REQUESTS
// (protocol/requests.ts) does not compile until it has a rule in every phase and a handler here.
import type { Notice, Tuple } from '../protocol/messages.js';
import { MAX_RING } from '../protocol/limits.js';
import { queryCapability } from '../protocol/secrets.js';
import type { Addr } from '../reliable/index.js';
import { parseCount, parseIpv4, parsePort, parseYear } from '../console/commands.js';
import { assert } from '../runtime/assert.js';
import { REASONS, WAITING_FOR, type ManagerRequest, type Reason } from './rules.js';
import { count, tupleOf, type Dht, type ManagerState } from './state.js';

export type Outcome =
  | { ok: true; text: string; peers?: Tuple[]; peer?: Tuple; dht?: number; sec?: string; cap?: string }
  | { ok: false; reason: Reason; text: string };

/** A notice before the manager numbers it and adds the addressee's token. */
export type NoticeBody = Notice extends infer N ? N extends unknown ? Omit<N, 'rid' | 'tok'> : never : never;

export const fail = (reason: Reason, text: string): Outcome => ({ ok: false, reason, text });

/** What a handler may use besides the state: the event's time, randomness, DHT numbers, dissolving. */
export interface Ctx {
  readonly state: ManagerState;
  random(): number;
  /** The number of a new DHT (1, 2, … over the manager's life). */
  nextDhtId(): number;
  /** A fresh unguessable value (a token, a DHT's secret): cryptographic in the programs. */
  secret(): string;
  /** The request id of the command being handled (a new peer's first). */
  readonly rid: number;
  /** Send a notice to a registered peer's m-port, with its token, retransmitted until acknowledged. */
  notify(name: string, body: NoticeBody): void;
  /** Drop the DHT and tell everyone involved but `except` (§4.8). */
  dissolve(d: Dht, except: string | null, why: string): void;
}

/**
 * The peer named in the request (its first argument), the address the request came from, and
 * the per-node record counts a dht-complete or dht-rebuilt may carry.
 */
export interface Who { name: string; from: Addr; counts?: readonly number[] }

type Parsed<A> = { ok: true; value: A } | { ok: false; text: string };

interface Handler<A> {
  /** Argument syntax, before the table's verdict is given (a malformed request is BAD_ARGUMENTS in any phase but a busy one). */
  parse(args: readonly string[]): Parsed<A>;
  /** Value checks and the effect; called only when the table allows the sender. */
  run(ctx: Ctx, who: Who, args: A): Outcome;
}

/** A handler, its `run` typed by what its `parse` returns. */
const handler = <A>(h: Handler<A>): Handler<unknown> => h as Handler<unknown>;
const noArgs = (): Parsed<null> => ({ ok: true, value: null });
const bad = (text: string): { ok: false; text: string } => ({ ok: false, text });

/** The DHT, which the rule table guarantees exists when a handler that needs it runs. */
function dhtOf(ctx: Ctx): Dht {
  const d = ctx.state.dht;
  assert(d !== null, 'the rule table lets this request through only with a DHT');
  return d;
}

export const HANDLERS: { readonly [R in ManagerRequest]: Handler<unknown> } = {
  register: handler({
    parse(args) {
      const [name, ipArg, mArg, pArg] = args as [string, string, string, string];
      const ip = parseIpv4(ipArg);
      const mport = parsePort(mArg);
      const pport = parsePort(pArg);
      if (ip === null) return bad(`'${ipArg.slice(0, 20)}' is not a dotted-decimal IPv4 address`);
      if (mport === null || pport === null) return bad('ports must be whole numbers 1–65535');
      if (mport === pport) return bad('m-port and p-port must differ');
      return { ok: true, value: { name, ip, mport, pport } };
    },
    run(ctx, { from }, { name, ip, mport, pport }) {
      const s = ctx.state;
      for (const port of [mport, pport]) {
        const user = s.portUser(port);
        if (user !== undefined) return fail('PORT_IN_USE', `port ${port} is already used by ${user}`);
      }
      if (ip !== from.ip || mport !== from.port) {
        return fail('NOT_OWNER', `a peer registers itself: this request came from ${from.ip}:${from.port}, not ${ip}:${mport}`);
      }
      s.addPeer(name, ip, mport, pport, ctx.secret(), ctx.rid);
      return { ok: true, text: `${name} registered at ${ip}, m-port ${mport}, p-port ${pport}; ${count(s.peers.size, 'peer')} registered` };
    },
  }),

  'setup-dht': handler({
    parse(args) {
      const n = parseCount(args[1]!, 1e6);
      const year = parseYear(args[2]!);
      if (n === null) return bad(`n '${args[1]!.slice(0, 20)}' is not a whole number`);
      if (year === null) return bad(`year '${args[2]!.slice(0, 20)}' is not between 1950 and 2019`);
      return { ok: true, value: { n, year } };
    },
    run(ctx, { name }, { n, year }) {
      const s = ctx.state;
      if (n < 3) return fail('N_TOO_SMALL', `n is ${n}; a DHT needs at least 3 peers`);
      if (n > MAX_RING) return fail('N_TOO_LARGE', `n is ${n}; a ring holds at most ${MAX_RING} peers`);
      const free = [...s.peers.values()].filter((p) => p.state === 'Free');
      if (free.length < n) return fail('NOT_ENOUGH_PEERS', `${free.length} peer${free.length === 1 ? ' is' : 's are'} registered, ${n} are needed`);
      const leader = s.peers.get(name)!;
      const members = [leader, ...shuffle(ctx, free.filter((p) => p !== leader)).slice(0, n - 1)];
      const id = ctx.nextDhtId();
      const secret = ctx.secret();
      s.dht = { phase: 'building', leader: name, members: members.map((p) => p.name), year, id, secret };
      // Each chosen member learns of the DHT from the manager, so it takes set-id only for it.
      for (const m of members.slice(1)) ctx.notify(m.name, { t: 'dht-notice', dht: id, leader: tupleOf(leader), sec: secret });
      return { ok: true, text: `${name} leads a DHT of ${n}: ${members.map((p) => p.name).join(', ')}`, peers: members.map(tupleOf), dht: id, sec: secret };
    },
  }),

  'dht-complete': handler({
    parse: noArgs,
    run(ctx, { counts }) {
      const d = dhtOf(ctx);
      if (d.phase === 'ready') return { ok: true, text: 'the DHT was already ready' };
      return { ok: true, text: `the DHT of ${d.members.length} led by ${d.leader} is ready${keepCounts(d, counts)}` };
    },
  }),

  'query-dht': handler({
    parse: noArgs,
    run(ctx, { name }) {
      const d = dhtOf(ctx);
      const entry = ctx.state.peers.get(d.members[Math.floor(ctx.random() * d.members.length)]!)!;
      const querier = ctx.state.peers.get(name)!;
      return { ok: true, text: `ask ${entry.name}`, peer: tupleOf(entry), cap: queryCapability(d.secret, tupleOf(querier)) };
    },
  }),

  'leave-dht': handler({
    parse: noArgs,
    run(ctx, { name }) {
      const d = dhtOf(ctx);
      if (d.members.length === 1) return fail('LAST_MEMBER', `${name} is the only member; use teardown-dht`);
      return { ok: true, text: `${name} may leave; waiting for dht-rebuilt` };
    },
  }),

  'join-dht': handler({
    parse: noArgs,
    run(ctx, { name }) {
      const d = dhtOf(ctx);
      const peers = ctx.state.peers;
      if (d.members.length >= MAX_RING) return fail('RING_FULL', `the DHT already has ${MAX_RING} members`);
      const leader = peers.get(d.leader)!;
      const others = d.members.filter((m) => m !== d.leader).map((m) => tupleOf(peers.get(m)!));
      // The leader admits only a joiner the manager vouched for.
      ctx.notify(leader.name, { t: 'join-notice', dht: d.id, joiner: tupleOf(peers.get(name)!) });
      return { ok: true, text: `${name} may join; ask the leader ${leader.name}`, peer: tupleOf(leader), peers: [tupleOf(leader), ...others], dht: d.id, sec: d.secret };
    },
  }),

  'dht-rebuilt': handler({
    parse: (args) => ({ ok: true, value: args[1]! }),
    run(ctx, { name, counts }, newLeader) {
      const d = dhtOf(ctx);
      if (d.phase === 'repairing') {
        // The members were settled when the death was declared (core.ts): the repairer leads them.
        if (newLeader !== d.leader) return fail('BAD_LEADER', `${newLeader} is not the leader of the repaired DHT (${d.leader} is)`);
        return { ok: true, text: `${name} repaired the DHT: ${count(d.members.length, 'member')} led by ${d.leader}${keepCounts(d, counts)}` };
      }
      const leaving = d.phase === 'leaving';
      const members = leaving ? d.members.filter((m) => m !== name) : [...d.members, name];
      if (!members.includes(newLeader)) return fail('BAD_LEADER', `${newLeader} is not a member of the rebuilt DHT`);
      // Members in ring order, starting from the new leader, as far as the manager can know it.
      const first = members.indexOf(newLeader);
      d.members = [...members.slice(first), ...members.slice(0, first)];
      d.leader = newLeader;
      return { ok: true, text: `${name} ${leaving ? 'left' : 'joined'}; the DHT has ${count(members.length, 'member')} led by ${newLeader}${keepCounts(d, counts)}` };
    },
  }),

  deregister: handler({
    parse: noArgs,
    run(ctx, { name }) {
      ctx.state.removePeer(name);
      return { ok: true, text: `${name} deregistered; ${count(ctx.state.peers.size, 'peer')} ${ctx.state.peers.size === 1 ? 'remains' : 'remain'}` };
    },
  }),

  'teardown-dht': handler({
    parse: noArgs,
    run: () => ({ ok: true, text: 'tear it down; waiting for teardown-complete' }),
  }),

  'teardown-complete': handler({
    parse: noArgs,
    run: () => ({ ok: true, text: 'the DHT is deleted; all its peers are Free' }),
  }),

  /** Our extension: the leader (setup) or initiator (leave/join) reports it cannot finish. */
  'dht-abort': handler({
    parse: noArgs,
    run(ctx, { name }) {
      const d = dhtOf(ctx);
      ctx.dissolve(d, name, `${name} aborted the ${operation(d)}`);
      return { ok: true, text: 'the DHT is dissolved; its peers are Free' };
    },
  }),
};

/**
 * Keep the per-node counts a dht-complete or dht-rebuilt carries when there is one per member
 * (ring order from the leader); otherwise forget any earlier ones. Returns a note for the
 * response when counts came but did not fit.
 */
function keepCounts(d: Dht, counts: readonly number[] | undefined): string {
  if (counts && counts.length === d.members.length) {
    d.counts = [...counts];
    return '';
  }
  delete d.counts;
  return counts ? `; its ${count(counts.length, 'count')} for ${count(d.members.length, 'member')} are ignored` : '';
}

/** The pending operation, in words. */
const operation = (d: Dht): string => (d.phase === 'building' ? 'setup' : d.phase === 'leaving' ? 'leave' : d.phase === 'joining' ? 'join' : d.phase === 'repairing' ? 'repair' : 'teardown');

/** The sentence of a refusal decided by the rule table. */
export function refusalText(s: ManagerState, request: ManagerRequest, reason: Reason, name: string): string {
  const d = s.dht;
  switch (reason) {
    case 'BUSY': return `the manager is waiting for ${WAITING_FOR[s.phase]} from ${s.waitingOn()}; try again after it`;
    case 'NOT_REGISTERED': return `${name} is not registered`;
    case 'DUPLICATE_NAME': return `a peer named ${name} is already registered`;
    case 'DHT_EXISTS': return `a DHT led by ${d?.leader} already exists`;
    case 'NO_DHT': return NO_DHT_TEXT[request] ?? 'there is no DHT';
    case 'NOT_LEADER': return `${name} is not the leader (${d?.leader} is)`;
    case 'NOT_FREE': return request === 'query-dht' ? `${name} is in the DHT; only a Free peer may query it` : `${name} is already in the DHT`;
    case 'NOT_MEMBER': return `${name} is not in the DHT`;
    case 'IN_DHT': return `${name} is ${s.stateOf(name) === 'Leader' ? 'the leader of' : 'in'} the DHT`;
    case 'NOT_PENDING': return NOT_PENDING_TEXT[request] ?? 'nothing of that kind is pending';
    case 'NOT_INITIATOR': {
      const owner = d?.phase === 'building' ? d.leader : d?.initiator;
      return request === 'dht-rebuilt' && d ? `the pending ${operation(d)} is ${owner}'s` : `the pending operation is ${owner}'s`;
    }
    // A reason without its own sentence (none the table gives today): its description.
    default: return REASONS[reason];
  }
}

const NO_DHT_TEXT: Partial<Record<ManagerRequest, string>> = {
  'dht-complete': 'there is no DHT to complete',
  'query-dht': 'there is no ready DHT to query',
  'leave-dht': 'there is no ready DHT to leave',
  'join-dht': 'there is no ready DHT to join',
  'teardown-dht': 'there is no ready DHT to tear down',
  'teardown-complete': 'there is no DHT',
};

const NOT_PENDING_TEXT: Partial<Record<ManagerRequest, string>> = {
  'dht-rebuilt': 'no leave, join or repair is pending',
  'teardown-complete': 'no teardown is pending; send teardown-dht first',
  'dht-abort': 'no setup, leave, join or repair is pending',
};

function shuffle<T>(ctx: Ctx, items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
