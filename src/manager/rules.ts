// Which sender may make which request in which DHT phase, what it is refused otherwise, and the
// phase after a SUCCESS: one table (after h11's _state.py) that the manager looks up for every
// request (core.ts) and that the tests and docs/PROTOCOL.md §1.4 are generated from. Checks that
// depend on argument values (n < 3, LAST_MEMBER, BAD_LEADER, PORT_IN_USE, …) are the handlers'
// (handlers.ts); the phase and the sender's role are decided here only.

import type { ManagerRequest } from '../protocol/requests.js';
import { MANAGER_REQUESTS } from '../protocol/requests.js';
export { MANAGER_REQUESTS, type ManagerRequest } from '../protocol/requests.js';

export type Phase = 'none' | 'building' | 'ready' | 'leaving' | 'joining' | 'repairing' | 'tearing-down';
export const PHASES: readonly Phase[] = ['none', 'building', 'ready', 'leaving', 'joining', 'repairing', 'tearing-down'];

/**
 * The sender's role, from the peer named in the request's first argument (one role each, first
 * match wins): the peer whose leave, join or repair is pending; the DHT's leader; another member; a
 * registered peer in no DHT; a name that is not registered.
 */
export type Role = 'initiator' | 'leader' | 'member' | 'free' | 'unregistered';
export const ROLES: readonly Role[] = ['initiator', 'leader', 'member', 'free', 'unregistered'];

/** The roles a peer can have in each phase (an initiator exists only while a leave or join is pending). */
export const ROLES_IN: Readonly<Record<Phase, readonly Role[]>> = {
  none: ['free', 'unregistered'],
  building: ['leader', 'member', 'free', 'unregistered'],
  ready: ['leader', 'member', 'free', 'unregistered'],
  leaving: ['initiator', 'leader', 'member', 'free', 'unregistered'],
  joining: ['initiator', 'leader', 'member', 'free', 'unregistered'],
  // The repairer is the (new) leader: as initiator it is never seen as 'leader' (first match wins).
  repairing: ['initiator', 'member', 'free', 'unregistered'],
  'tearing-down': ['leader', 'member', 'free', 'unregistered'],
};

/** Reason codes of FAILURE responses, with when each is given. */
export const REASONS = {
  BAD_ARGUMENTS: 'an argument is missing or malformed',
  UNKNOWN_COMMAND: 'the manager has no such command',
  BUSY: 'the manager is waiting for a DHT operation to finish',
  DUPLICATE_NAME: 'register: the name is taken',
  PORT_IN_USE: 'register: a registered peer already uses that port',
  NOT_REGISTERED: 'the named peer is not registered',
  NOT_OWNER: 'the request did not come from the named peer\'s registered address and m-port',
  BAD_TOKEN: 'never answered: a command from a registered peer\'s address without its token, or with an old request id (forged or replayed); dropped with a rate-limited line',
  DHT_EXISTS: 'setup-dht: a DHT already exists',
  N_TOO_SMALL: 'setup-dht: n must be at least 3',
  N_TOO_LARGE: 'setup-dht: n is larger than the largest ring (256)',
  RING_FULL: 'join-dht: the ring already has the largest number of members (256)',
  NOT_ENOUGH_PEERS: 'setup-dht: fewer than n Free peers are registered',
  NO_DHT: 'there is no DHT (or it is not ready)',
  NOT_LEADER: 'only the DHT\'s leader may do this',
  NOT_FREE: 'the peer is in the DHT',
  NOT_MEMBER: 'the peer is not a member of the DHT',
  LAST_MEMBER: 'leave-dht: the only member cannot leave; tear the DHT down instead',
  NOT_INITIATOR: 'dht-rebuilt/dht-abort: only the peer that started the operation may finish it',
  NOT_PENDING: 'nothing of that kind is pending',
  BAD_LEADER: 'dht-rebuilt: the new leader is not a member of the rebuilt DHT',
  IN_DHT: 'deregister: the peer is in the DHT; leave it first',
} as const;
export type Reason = keyof typeof REASONS;

/**
 * One cell of the table: the roles that may make the request (and the phase after its SUCCESS),
 * the reason every other role is refused with, and per-role exceptions to that reason.
 */
export interface Rule {
  readonly allow: readonly Role[];
  /** Phase after a SUCCESS (null when no role may make the request). */
  readonly next: Phase | null;
  readonly otherwise: Reason;
  readonly except: Readonly<Partial<Record<Role, Reason>>>;
}

/**
 * Reasons decided before the sender's address and the argument syntax are checked (a request
 * from an unregistered name, or while the manager waits for something else); every other
 * reason of the table is given after them (PROTOCOL §3.2, order of checks).
 */
export const EARLY_REASONS: readonly Reason[] = ['BUSY', 'NOT_REGISTERED'];

/** While waiting: refused to everyone, registered or not. */
const busy: Rule = { allow: [], next: null, otherwise: 'BUSY', except: {} };
/** `allow` may, going to `next`; other registered senders get `otherwise`; unregistered ones NOT_REGISTERED. */
const may = (allow: readonly Role[], next: Phase, otherwise: Reason, except: Partial<Record<Role, Reason>> = {}): Rule =>
  ({ allow, next, otherwise, except: { unregistered: 'NOT_REGISTERED', ...except } });
/** No registered sender may (the phase alone decides), unregistered ones get NOT_REGISTERED. */
const nobody = (otherwise: Reason, except: Partial<Record<Role, Reason>> = {}): Rule =>
  ({ allow: [], next: null, otherwise, except: { unregistered: 'NOT_REGISTERED', ...except } });
/** register: a new name may, a registered one is taken. */
const newName = (next: Phase): Rule => ({ allow: ['unregistered'], next, otherwise: 'DUPLICATE_NAME', except: {} });

type Table = { readonly [P in Phase]: { readonly [R in ManagerRequest]: Rule } };

export const RULES: Table = {
  none: {
    register: newName('none'),
    'setup-dht': may(['free'], 'building', 'DHT_EXISTS'),
    'dht-complete': nobody('NO_DHT'),
    'query-dht': nobody('NO_DHT'),
    'leave-dht': nobody('NO_DHT'),
    'join-dht': nobody('NO_DHT'),
    'dht-rebuilt': nobody('NOT_PENDING'),
    deregister: may(['free'], 'none', 'IN_DHT'),
    'teardown-dht': nobody('NO_DHT'),
    'teardown-complete': nobody('NO_DHT'),
    'dht-abort': nobody('NOT_PENDING'),
  },
  // Waiting for dht-complete (or dht-abort) from the leader.
  building: {
    register: busy,
    'setup-dht': busy,
    'dht-complete': may(['leader'], 'ready', 'NOT_LEADER'),
    'query-dht': busy,
    'leave-dht': busy,
    'join-dht': busy,
    'dht-rebuilt': busy,
    deregister: busy,
    'teardown-dht': busy,
    'teardown-complete': busy,
    'dht-abort': may(['leader'], 'none', 'NOT_INITIATOR'),
  },
  ready: {
    register: newName('ready'),
    'setup-dht': nobody('DHT_EXISTS'),
    'dht-complete': may(['leader'], 'ready', 'NOT_LEADER'),
    'query-dht': may(['free'], 'ready', 'NOT_FREE'),
    'leave-dht': may(['leader', 'member'], 'leaving', 'NOT_MEMBER'),
    'join-dht': may(['free'], 'joining', 'NOT_FREE'),
    'dht-rebuilt': nobody('NOT_PENDING'),
    deregister: may(['free'], 'ready', 'IN_DHT'),
    'teardown-dht': may(['leader'], 'tearing-down', 'NOT_LEADER'),
    'teardown-complete': nobody('NOT_LEADER', { leader: 'NOT_PENDING' }),
    'dht-abort': nobody('NOT_PENDING'),
  },
  // Waiting for dht-rebuilt (or dht-abort) from the leaver.
  leaving: {
    register: busy,
    'setup-dht': busy,
    'dht-complete': busy,
    'query-dht': busy,
    'leave-dht': busy,
    'join-dht': busy,
    'dht-rebuilt': may(['initiator'], 'ready', 'NOT_INITIATOR'),
    deregister: busy,
    'teardown-dht': busy,
    'teardown-complete': busy,
    'dht-abort': may(['initiator'], 'none', 'NOT_INITIATOR'),
  },
  // Waiting for dht-rebuilt (or dht-abort) from the joiner.
  joining: {
    register: busy,
    'setup-dht': busy,
    'dht-complete': busy,
    'query-dht': busy,
    'leave-dht': busy,
    'join-dht': busy,
    'dht-rebuilt': may(['initiator'], 'ready', 'NOT_INITIATOR'),
    deregister: busy,
    'teardown-dht': busy,
    'teardown-complete': busy,
    'dht-abort': may(['initiator'], 'none', 'NOT_INITIATOR'),
  },
  // Waiting for dht-rebuilt (or dht-abort) from the repairer: a member was declared dead (liveness,
  // PROTOCOL §4.12) and the leader, or the next member for a dead leader, rebuilds without it.
  repairing: {
    register: busy,
    'setup-dht': busy,
    'dht-complete': busy,
    'query-dht': busy,
    'leave-dht': busy,
    'join-dht': busy,
    'dht-rebuilt': may(['initiator'], 'ready', 'NOT_INITIATOR'),
    deregister: busy,
    'teardown-dht': busy,
    'teardown-complete': busy,
    'dht-abort': may(['initiator'], 'none', 'NOT_INITIATOR'),
  },
  // Waiting for teardown-complete from the leader.
  'tearing-down': {
    register: busy,
    'setup-dht': busy,
    'dht-complete': busy,
    'query-dht': busy,
    'leave-dht': busy,
    'join-dht': busy,
    'dht-rebuilt': busy,
    deregister: busy,
    'teardown-dht': busy,
    'teardown-complete': may(['leader'], 'none', 'NOT_LEADER'),
    'dht-abort': busy,
  },
};

export type Verdict = { ok: true; next: Phase } | { ok: false; reason: Reason };

/** The table's answer for a request from a sender in `role` while the DHT is in `phase`. */
export function verdict(phase: Phase, request: ManagerRequest, role: Role): Verdict {
  const rule = RULES[phase][request];
  if (rule.allow.includes(role)) return { ok: true, next: rule.next! };
  return { ok: false, reason: rule.except[role] ?? rule.otherwise };
}

export interface Row { phase: Phase; request: ManagerRequest; role: Role; verdict: Verdict }

/** Every (phase, request, role) that can occur, with the table's verdict: what the tests walk. */
export function rows(): Row[] {
  const out: Row[] = [];
  for (const phase of PHASES) {
    for (const request of MANAGER_REQUESTS) {
      for (const role of ROLES_IN[phase]) out.push({ phase, request, role, verdict: verdict(phase, request, role) });
    }
  }
  return out;
}

/** What the manager is waiting for in a phase, for the BUSY sentence; undefined when it waits for nothing. */
export const WAITING_FOR: Readonly<Record<Phase, ManagerRequest | undefined>> = {
  none: undefined,
  building: 'dht-complete',
  ready: undefined,
  leaving: 'dht-rebuilt',
  joining: 'dht-rebuilt',
  repairing: 'dht-rebuilt',
  'tearing-down': 'teardown-complete',
};

export const isWaiting = (phase: Phase): boolean => WAITING_FOR[phase] !== undefined;
