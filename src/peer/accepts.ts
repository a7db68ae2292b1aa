// Which peer-to-peer message each peer state takes (in the style of h11's _state.py): one table,
// looked up before a message reaches its handler. A cell is 'take' or the reason the message is
// ignored (with a complaint line, unacknowledged). A handler may still refuse a taken message for
// what it says (a wrong epoch, a sender outside the ring, …); the table decides by state alone.
// docs/PROTOCOL.md §1.3 shows it as rendered by acceptsMarkdown().
import type { PeerMessage } from '../protocol/messages.js';
import type { Operation } from './operation.js';
import type { PeerState } from './state.js';

export const PEER_STATES = ['unregistered', 'free', 'joining', 'member', 'leader', 'leaving'] as const;
export type PeerStateName = (typeof PEER_STATES)[number];
export type PeerMessageType = PeerMessage['t'];
export type Cell = 'take' | { refuse: string };

/** The state as the table sees it: the ring role, or the leave/join this peer is in the middle of. */
export function stateName(state: PeerState, op: Operation | null): PeerStateName {
  if (state.kind === 'unregistered') return 'unregistered';
  if (op?.kind === 'join') return 'joining';
  if (op?.kind === 'leave') return 'leaving';
  if (state.kind === 'free') return 'free';
  return state.ring.id === 0 ? 'leader' : 'member';
}

const take = 'take' as const;
const refuse = (why: string): Cell => ({ refuse: why });
const NOT_REGISTERED = refuse('this peer is not registered');
const NO_RING = refuse('this peer is not in a DHT');
const NOT_LEADER = refuse('this peer is not the leader of a ring');
const NO_LEAVE_OR_JOIN = refuse('no leave or join of this peer is pending');
const JOINING = refuse('this peer is joining a DHT');
const LEAVING = refuse('this peer is leaving its DHT');

/** Ring traffic: taken by anyone that may hold a ring (handlers check the sender is in it). */
const RING = { unregistered: NOT_REGISTERED, free: NO_RING, joining: take, member: take, leader: take, leaving: take } as const;

export const ACCEPTS: { readonly [T in PeerMessageType]: { readonly [S in PeerStateName]: Cell } } = {
  'set-id': { unregistered: NOT_REGISTERED, free: take, joining: JOINING, member: take, leader: take, leaving: LEAVING },
  store: RING,
  'store-end': RING,
  'store-failed': RING,
  teardown: RING,
  'reset-id': RING,
  'rebuild-dht': { unregistered: NOT_REGISTERED, free: NOT_LEADER, joining: NOT_LEADER, member: NOT_LEADER, leader: take, leaving: LEAVING },
  'rebuild-done': { unregistered: NOT_REGISTERED, free: NO_LEAVE_OR_JOIN, joining: take, member: NO_LEAVE_OR_JOIN, leader: NO_LEAVE_OR_JOIN, leaving: take },
  join: { unregistered: NOT_REGISTERED, free: NOT_LEADER, joining: NOT_LEADER, member: NOT_LEADER, leader: take, leaving: LEAVING },
  // Any registered peer takes a query: one outside the ring (it may have just left) answers busy.
  'find-event': { unregistered: NOT_REGISTERED, free: take, joining: take, member: take, leader: take, leaving: take },
  // A late answer to a finished query is taken and dropped: it is not the sender's fault.
  'event-result': { unregistered: NOT_REGISTERED, free: take, joining: take, member: take, leader: take, leaving: take },
};

/** Why a message of type t is refused in this state, or null if the state takes it. */
export function refusal(t: PeerMessageType, state: PeerStateName): string | null {
  const cell = ACCEPTS[t][state];
  return cell === 'take' ? null : cell.refuse;
}

/** The table for docs/PROTOCOL.md: a row per message type, a column per state. */
export function acceptsMarkdown(): string {
  const head = `| message | ${PEER_STATES.join(' | ')} |`;
  const rule = `|---|${PEER_STATES.map(() => '---').join('|')}|`;
  const rows = (Object.keys(ACCEPTS) as PeerMessageType[]).map((t) =>
    `| \`${t}\` | ${PEER_STATES.map((s) => refusal(t, s) ?? '**taken**').join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}
