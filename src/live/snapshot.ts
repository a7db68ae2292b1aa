// What the live view shows, as plain JSON: a snapshot of the manager's state (its peers and its
// DHT) and one short record per message the manager sends or receives. Built from the manager's
// state (manager/state.ts) and the interpreter's observer calls; never written back.
import type { ManagerState } from '../manager/state.js';
import type { Message } from '../protocol/messages.js';
import { describe } from '../protocol/describe.js';
import type { Addr } from '../reliable/index.js';

/** Peers listed in a snapshot; more are counted (a register flood must not make snapshots huge). */
export const MAX_PEERS_SHOWN = 512;
/** Longest message summary sent to the page. */
const MAX_SUMMARY = 160;

export interface PeerView { name: string; ip: string; mport: number; pport: number; state: 'Free' | 'Leader' | 'InDHT' }

export interface DhtView {
  id: number;
  phase: 'building' | 'ready' | 'leaving' | 'joining' | 'repairing' | 'tearing-down';
  year: number;
  leader: string;
  /** Ring order as the manager knows it, leader (node 0) first. */
  members: string[];
  /** The peer whose leave or join is pending. */
  initiator?: string;
  /** Records per member, in `members` order, when the leader or initiator reported them. */
  counts?: number[];
  /** The operation in progress in words ("leaving: peer3"), or null when the DHT is ready. */
  operation: string | null;
}

export interface Snapshot {
  /** The manager's UDP address, once bound. */
  manager: Addr | null;
  peers: PeerView[];
  /** Registered peers beyond MAX_PEERS_SHOWN, not listed. */
  peersOmitted: number;
  dht: DhtView | null;
}

/** The operation the manager waits on, in words. */
export function operationOf(d: { phase: DhtView['phase']; leader: string; initiator?: string }): string | null {
  switch (d.phase) {
    case 'ready': return null;
    case 'building': return `setting up: ${d.leader}`;
    case 'leaving': return `leaving: ${d.initiator ?? '?'}`;
    case 'joining': return `joining: ${d.initiator ?? '?'}`;
    case 'repairing': return `repairing: ${d.initiator ?? '?'}`;
    case 'tearing-down': return `tearing down: ${d.leader}`;
  }
}

export function snapshotOf(state: ManagerState, manager: Addr | null): Snapshot {
  const peers: PeerView[] = [];
  for (const p of state.peers.values()) {
    if (peers.length >= MAX_PEERS_SHOWN) break;
    peers.push({ name: p.name, ip: p.ip, mport: p.mport, pport: p.pport, state: p.state });
  }
  const d = state.dht;
  const dht: DhtView | null = d
    ? {
        id: d.id, phase: d.phase, year: d.year, leader: d.leader, members: [...d.members],
        ...(d.initiator !== undefined ? { initiator: d.initiator } : {}),
        ...(d.counts ? { counts: [...d.counts] } : {}),
        operation: operationOf(d),
      }
    : null;
  return { manager, peers, peersOmitted: state.peers.size - peers.length, dht };
}

/** One message as the page lists it. */
export interface MessageView {
  /** Milliseconds since the live view started. */
  at: number;
  dir: 'in' | 'out';
  /** The registered peer at that address, or null for a stranger. */
  peer: string | null;
  addr: string;
  t: Message['t'];
  /** cmd and res: the command. */
  cmd?: string;
  /** res: SUCCESS or FAILURE. */
  code?: string;
  reason?: string;
  /** The key fields in one line (the trace's description, clipped). */
  text: string;
  /** A retransmission's try number (2, 3, …). */
  attempt?: number;
  /** A received message the manager did not act on: 'duplicate' or 'ignored'. */
  note?: string;
}

export function messageView(at: number, dir: 'in' | 'out', peer: string | undefined, addr: Addr, msg: Message, attempt = 1, note?: string): MessageView {
  let text = describe(msg);
  if (msg.t === 'cmd' && msg.counts) text += ` counts=[${msg.counts.slice(0, 16).join(', ')}${msg.counts.length > 16 ? ', …' : ''}]`;
  if (text.length > MAX_SUMMARY) text = `${text.slice(0, MAX_SUMMARY - 1)}…`;
  return {
    at: Math.round(at), dir, peer: peer ?? null, addr: `${addr.ip}:${addr.port}`, t: msg.t, text,
    ...(msg.t === 'cmd' || msg.t === 'res' ? { cmd: msg.cmd.slice(0, 20) } : {}),
    ...(msg.t === 'res' ? { code: msg.code, ...(msg.reason ? { reason: msg.reason.slice(0, 30) } : {}) } : {}),
    ...(attempt > 1 ? { attempt } : {}),
    ...(note ? { note } : {}),
  };
}
