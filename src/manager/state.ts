// The manager's state information base (PROTOCOL §1.2): the registered peers and the DHT.
// Membership is stored once, in the DHT (`members`, `leader`, `initiator`); a peer's state
// (Free / Leader / InDHT) and its role in a request are derived from it, never stored.
import type { Tuple } from '../protocol/messages.js';
import { MAX_RING } from '../protocol/limits.js';
import { assert } from '../runtime/assert.js';
import { isWaiting, type Phase, type Role } from './rules.js';

export type PeerState = 'Free' | 'Leader' | 'InDHT';

export interface PeerEntry {
  readonly name: string;
  readonly ip: string;
  readonly mport: number;
  readonly pport: number;
  /** Issued at register (PROTOCOL §8): every later command must carry it, every datagram to the peer does. */
  readonly token: string;
  /** The highest request id taken from this peer: an older one is a replay and is refused. */
  lastRid: number;
  /** Derived from the DHT on every read (`ManagerState.stateOf`): a getter, not a stored field. */
  readonly state: PeerState;
}

export interface Dht {
  phase: Exclude<Phase, 'none'>;
  leader: string;
  /** Ring order as far as the manager knows it, leader first. */
  members: string[];
  /** Peer whose leave, join or repair is pending (the repairer is the leader). */
  initiator?: string;
  year: number;
  /** This DHT's number, unique within the manager's life: stale `dissolved` messages name an older one. */
  id: number;
  /** The DHT's secret (PROTOCOL §8): given to its members, carried by every ring message. */
  secret: string;
  /** When the manager stops waiting for the pending operation. */
  deadline?: number;
  /**
   * Records each member holds, in `members` order, as the leader counted them at the last setup
   * or rebuild (the optional `counts` of dht-complete / dht-rebuilt); absent when not reported.
   */
  counts?: number[];
}

export const tupleOf = (p: PeerEntry): Tuple => ({ name: p.name, ip: p.ip, port: p.pport });

/** "1 peer", "2 peers"; "1 try", "3 tries". */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;

export class ManagerState {
  /** Change only through addPeer and removePeer, which keep the indexes below in step. */
  readonly peers = new Map<string, PeerEntry>();
  /** Registered peers by m-port address (`ip:port`): who a datagram comes from. */
  dht: Dht | null = null;
  /** Port → name of the peer using it (m-port or p-port): PORT_IN_USE in O(1), not a scan of every peer. */
  private readonly portUsers = new Map<number, string>();
  /** `ip:port` (m-port and p-port) → name, for nameOf on every traced datagram. */
  private readonly addrNames = new Map<string, string>();

  get phase(): Phase {
    return this.dht?.phase ?? 'none';
  }

  /** Free, Leader or InDHT, from the DHT's leader and members. */
  stateOf(name: string): PeerState {
    const d = this.dht;
    if (!d) return 'Free';
    if (d.leader === name) return 'Leader';
    return d.members.includes(name) ? 'InDHT' : 'Free';
  }

  /** The role of the peer a request names, for the rule table (rules.ts). */
  roleOf(name: string): Role {
    if (!this.peers.has(name)) return 'unregistered';
    const d = this.dht;
    if (d?.initiator === name) return 'initiator';
    const state = this.stateOf(name);
    return state === 'Leader' ? 'leader' : state === 'InDHT' ? 'member' : 'free';
  }

  addPeer(name: string, ip: string, mport: number, pport: number, token: string, rid: number): PeerEntry {
    const self = this;
    const entry: PeerEntry = { name, ip, mport, pport, token, lastRid: rid, get state() { return self.stateOf(name); } };
    this.peers.set(name, entry);
    for (const port of [mport, pport]) {
      this.portUsers.set(port, name);
      this.addrNames.set(`${ip}:${port}`, name);
    }
    return entry;
  }

  /**
   * A peer as a snapshot saved it (manager/snapshot.ts): registered through addPeer, then every
   * other data field put back as it was, whatever fields PeerEntry has grown.
   */
  restorePeer(fields: { name: string; ip: string; mport: number; pport: number } & Record<string, unknown>): PeerEntry {
    const entry = this.addPeer(fields.name, fields.ip, fields.mport, fields.pport, String(fields['token'] ?? ''), Number(fields['lastRid'] ?? 0));
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'state' || key === 'name' || key === 'ip' || key === 'mport' || key === 'pport') continue;
      Object.defineProperty(entry, key, { value, writable: true, enumerable: true, configurable: true });
    }
    return entry;
  }

  removePeer(name: string): void {
    const p = this.peers.get(name);
    if (!p) return;
    this.peers.delete(name);
    for (const port of [p.mport, p.pport]) {
      this.portUsers.delete(port);
      this.addrNames.delete(`${p.ip}:${port}`);
    }
  }

  /** The peer using a port (ports are unique across all registered peers, whatever their address). */
  portUser(port: number): string | undefined {
    return this.portUsers.get(port);
  }

  /** Name of the peer at an address (m-port or p-port). */
  nameAt(ip: string, port: number): string | undefined {
    return this.addrNames.get(`${ip}:${port}`);
  }

  /** The peer registered at this m-port address, if any. */
  peerAt(addr: { ip: string; port: number }): PeerEntry | undefined {
    const name = this.addrNames.get(`${addr.ip}:${addr.port}`);
    const p = name === undefined ? undefined : this.peers.get(name);
    return p && p.mport === addr.port ? p : undefined;
  }

  /** The peer the manager waits for: the initiator of a leave or join, else the leader. */
  waitingOn(): string {
    const d = this.dht;
    assert(d !== null, 'waitingOn() with a DHT');
    return d.initiator ?? d.leader;
  }

  statusLines(): string[] {
    const d = this.dht;
    const lines = [d
      ? `DHT: ${d.phase}, year ${d.year}, leader ${d.leader}, ${count(d.members.length, 'member')} (${d.members.join(', ')})` +
        (d.initiator ? `, pending ${d.phase} of ${d.initiator}` : '')
      : 'DHT: none'];
    if (d?.counts) lines.push(`  records: ${d.members.map((m, i) => `${m} ${d.counts![i]}`).join(', ')} (${d.counts.reduce((a, b) => a + b, 0)} in all)`);
    lines.push(`peers: ${this.peers.size} registered`);
    for (const p of this.peers.values()) lines.push(`  ${p.name.padEnd(15)} ${p.ip}  m-port ${p.mport}  p-port ${p.pport}  ${p.state}`);
    return lines;
  }

  /** Checked after every request and timeout: a failure is a bug in the manager, never bad input. */
  protected checkInvariants(): void {
    const d = this.dht;
    if (!d) return;
    assert(d.members.length >= 1 && d.members.length <= MAX_RING, `member count ${d.members.length} within 1..${MAX_RING}`);
    assert(new Set(d.members).size === d.members.length, 'no peer is a member twice');
    assert(d.members[0] === d.leader, `the leader ${d.leader} is a member, listed first`);
    assert(d.counts === undefined || d.counts.length === d.members.length, 'one count per member, when counts are known');
    for (const m of d.members) assert(this.peers.has(m), `member ${m} is registered`);
    assert(isWaiting(d.phase) === (d.deadline !== undefined), `phase ${d.phase} has a deadline exactly when it waits`);
    const pending = d.phase === 'leaving' || d.phase === 'joining' || d.phase === 'repairing';
    assert(pending === (d.initiator !== undefined), `an initiator is set exactly in leaving/joining/repairing (phase ${d.phase})`);
    if (d.initiator !== undefined) {
      assert(this.peers.has(d.initiator), `initiator ${d.initiator} is registered`);
      // A leaver is a member (possibly the leader); a joiner is not yet one; the repairer leads.
      assert(d.members.includes(d.initiator) === (d.phase !== 'joining'), `initiator ${d.initiator} is a member exactly when leaving or repairing`);
      assert(d.phase !== 'repairing' || d.initiator === d.leader, `the repairer ${d.initiator} is the leader`);
    }
  }
}
