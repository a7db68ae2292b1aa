// Which commands the manager takes in which DHT phase, in one table (after h11's _state.py).
// While it waits for a leader or an initiator to finish, everything else gets FAILURE BUSY.

export type Phase = 'none' | 'building' | 'ready' | 'leaving' | 'joining' | 'tearing-down';

import type { ManagerRequest } from '../protocol/requests.js';
export { MANAGER_REQUESTS, type ManagerRequest } from '../protocol/requests.js';

/** Phases in which the manager is waiting, and the only requests it then takes. */
export const AWAITED: Readonly<Partial<Record<Phase, readonly ManagerRequest[]>>> = {
  building: ['dht-complete', 'dht-abort'],
  leaving: ['dht-rebuilt', 'dht-abort'],
  joining: ['dht-rebuilt', 'dht-abort'],
  'tearing-down': ['teardown-complete'],
};

export function isBusyFor(phase: Phase, cmd: ManagerRequest): boolean {
  const awaited = AWAITED[phase];
  return awaited !== undefined && !awaited.includes(cmd);
}

/** What the manager is waiting for in a phase, for the BUSY sentence. */
export const WAITING_FOR: Readonly<Partial<Record<Phase, string>>> = {
  building: 'dht-complete',
  leaving: 'dht-rebuilt',
  joining: 'dht-rebuilt',
  'tearing-down': 'teardown-complete',
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
