// A member's part in the ring operations others drive: take an id (set-id, reset-id) and pass
// renumbering on, delete the table and pass teardown on, keep or relay store batches, and at the
// leader take rebuild-dht and join (which start the rebuild and admit operations). Each handler
// returns null when the message is taken, else why it was ignored; accepts.ts has already
// checked that the peer's state takes this type of message at all.
import type { MessageOf } from '../protocol/messages.js';
import { MAX_RING } from '../protocol/limits.js';
import { sameAddr, type Addr } from '../reliable/index.js';
import { ringProblem } from './checks.js';
import { AdmitOp } from './admit.js';
import { RebuildOp } from './rebuild.js';
import type { Host } from './operation.js';
import { plural, rightOf, type Member } from './state.js';
import { StoreStream } from './store.js';
import { rField, replicationOf } from './replicas.js';

const NOT_FROM_RING = 'not from a member of this ring';

function ringOf(host: Host, from: Addr): Member | null {
  const s = host.state;
  return s.kind === 'member' && s.ring.peers.some((p) => sameAddr(p, from)) ? s : null;
}

/** The ring operation of this peer, if any (a query or a register is not one). */
function ringOp(host: Host): boolean {
  return host.op !== null && host.op.kind !== 'query' && host.op.kind !== 'register';
}

export function onSetId(host: Host, from: Addr, m: MessageOf<'set-id'>): string | null {
  const me = host.self();
  const leader = m.peers[0];
  if (!leader || !sameAddr(leader, from)) return 'set-id must come from the leader it names';
  const bad = ringProblem(m);
  if (bad) return `bad set-id: ${bad}`;
  const mine = m.peers[m.id];
  if (!mine || mine.name !== me.name || mine.port !== me.pport) return 'set-id names another peer at this id';
  if (host.state.kind === 'member' && !ringOf(host, from)) return 'this peer is in another ring';
  // A Free peer takes set-id only for the DHT the manager told it about (dht-notice): its number,
  // leader and secret (the secret itself was checked before the handler, core.ts).
  const announced = host.ctx.creds.announced;
  if (host.state.kind === 'free' && (!announced || announced.dht !== m.dht || !sameAddr(announced.leader, leader) || announced.leader.name !== leader.name)) {
    return 'set-id for a DHT the manager did not announce to this peer';
  }
  if (ringOp(host)) return 'this peer is busy with another ring operation';
  const { ring } = host.enterRing({ id: m.id, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht, sec: m.sec, r: m.r ?? 1 }, null, `the DHT is being set up by ${leader.name}`);
  host.ctx.creds.announced = null;
  host.ctx.remember(m.peers);
  host.ctx.print(`set-id: I am node ${m.id} of ${m.n} (leader ${leader.name}); right neighbour ${rightOf(ring).name}; year ${m.year}, s = ${m.s}${ring.r > 1 ? `; r = ${ring.r}` : ''}`);
  return null;
}

export function onStore(host: Host, from: Addr, m: MessageOf<'store'>): string | null {
  const member = ringOf(host, from);
  if (!member) return NOT_FROM_RING;
  if (m.epoch !== member.ring.epoch) return null; // a late batch of an earlier ring: acknowledge and drop
  const relay = (member.relay ??= new StoreStream(host.ctx, member.ring.epoch));
  const refused = relay.receive(member.ring, host.table, m);
  if (refused !== null) return refused;
  relay.pump(host.ctx, member.ring);
  return null;
}

export function onStoreEnd(host: Host, from: Addr, m: MessageOf<'store-end'>): string | null {
  const member = ringOf(host, from);
  if (!member) return NOT_FROM_RING;
  const { ring } = member;
  if (m.epoch !== ring.epoch) return null;
  if (member.relay && member.relay.misrouted > 0) {
    host.ctx.print(`store: warning: ${plural(member.relay.misrouted, 'record')} arrived past their node and were dropped`);
  }
  if (ring.id === 0) {
    const op = distributing(host);
    if (op && op.stream?.epoch === m.epoch) op.onDistributed(host, m.counts, m.replicas);
    return null;
  }
  // Every batch sent to this node was acknowledged before store-end left the left neighbour
  // (docs/PROTOCOL.md §4.6): this node's table is final for the epoch.
  member.complete = true;
  const relay = (member.relay ??= new StoreStream(host.ctx, ring.epoch));
  relay.end([...m.counts, host.table.count], replicationOf(ring) > 1 ? [...(m.replicas ?? []), host.table.replicaCount] : undefined);
  relay.pump(host.ctx, ring);
  return null;
}

/** The leader's operation that is distributing records, if any. */
function distributing(host: Host) {
  const op = host.op;
  return op && (op.kind === 'setup' || op.kind === 'admit' || op.kind === 'rebuild' || op.kind === 'repair') && op.phase === 'distributing' ? op : null;
}

export function onStoreFailed(host: Host, from: Addr, m: MessageOf<'store-failed'>): string | null {
  const member = ringOf(host, from);
  if (!member) return NOT_FROM_RING;
  const op = distributing(host);
  if (member.ring.id !== 0 || !op || m.epoch !== member.ring.epoch) return null; // nothing of ours to fail: acknowledge and drop
  op.onFailed(host, `${host.ctx.name(from)} reports: ${m.text}`);
  return null;
}

export function onTeardown(host: Host, from: Addr, m: MessageOf<'teardown'>): string | null {
  const member = ringOf(host, from);
  if (!member) return NOT_FROM_RING;
  const { ring, me } = member;
  if (!ring.peers.some((p) => p.name === m.origin)) return `teardown from ${m.origin}, who is not in this ring`;
  if (m.epoch !== ring.epoch) return null; // a late teardown of an earlier ring: acknowledge and drop
  if (m.origin === me.name) return teardownReturned(host, m.dissolve);
  const held = host.table.count;
  host.table.clear();
  member.complete = false;
  member.changing = m.dissolve ? `the DHT is being torn down by ${m.origin}` : `the DHT is being rebuilt (teardown by ${m.origin})`;
  dropRelay(host, member);
  host.ctx.sendPeer(rightOf(ring), { t: 'teardown', sec: ring.sec, origin: m.origin, dissolve: m.dissolve, epoch: m.epoch }, null);
  if (m.dissolve) host.leaveRing();
  host.ctx.print(`teardown: deleted ${plural(held, 'record')}${m.dissolve ? '; left the ring' : ''}`);
  return null;
}

function teardownReturned(host: Host, dissolve: boolean): null {
  host.table.clear();
  host.member().complete = false;
  if (dissolve) host.leaveRing();
  host.ctx.print('teardown: every node has deleted its table');
  const op = host.op;
  if ((op?.kind === 'teardown' || op?.kind === 'leave' || op?.kind === 'admit') && op.phase === 'tearing-down') op.onTeardownReturned(host);
  return null;
}

export function dropRelay(host: Host, member: Member): void {
  if (member.relay) host.ctx.drop(member.relay);
  member.relay = null;
}

export function onResetId(host: Host, from: Addr, m: MessageOf<'reset-id'>): string | null {
  const me = host.self();
  const op = host.op;
  const expectedJoin = op?.kind === 'join' && op.leader?.name === m.origin.name;
  if (!ringOf(host, from) && !expectedJoin) return NOT_FROM_RING;
  if (m.origin.name === me.name) {
    if ((op?.kind === 'leave' || op?.kind === 'admit' || op?.kind === 'repair') && op.phase === 'renumbering') op.onResetReturned(host);
    return null;
  }
  const bad = ringProblem(m);
  if (bad) return `bad reset-id: ${bad}`;
  const mine = m.peers[m.id];
  if (!mine || mine.name !== me.name) return 'reset-id gives this peer\'s id to another';
  const { ring } = host.enterRing({ id: m.id, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht, sec: m.sec, r: m.r ?? 1 }, m.origin, `the DHT is being rebuilt (renumbered by ${m.origin.name})`);
  host.ctx.remember(m.peers);
  host.ctx.print(`reset-id: I am node ${m.id} of ${m.n}; right neighbour ${rightOf(ring).name}`);
  const next = m.id === m.n - 1 ? m.origin : m.peers[m.id + 1];
  if (!next) return null; // unreachable: ringProblem checked id < n = peers.length
  host.ctx.sendPeer(next, { t: 'reset-id', sec: m.sec, origin: m.origin, id: m.id + 1, n: m.n, peers: m.peers, year: m.year, s: m.s, epoch: m.epoch, dht: m.dht, ...rField(ring) }, null);
  return null;
}

export function onRebuildDht(host: Host, from: Addr, m: MessageOf<'rebuild-dht'>): string | null {
  const s = host.state;
  if (s.kind !== 'member' || s.ring.id !== 0) return 'this peer is not the leader of a ring';
  const origin = s.renumberedBy;
  if (!origin || origin.name !== m.origin.name || !sameAddr(origin, from)) return 'rebuild-dht from a peer that did not renumber this ring';
  if (host.op !== null || host.table.count > 0) return 'the tables are not torn down: no rebuild';
  // Once per renumbering: a replayed rebuild-dht must not store every record a second time.
  s.renumberedBy = null;
  host.start(new RebuildOp(m.origin, s.ring.year));
  return null;
}

export function onJoin(host: Host, from: Addr, m: MessageOf<'join'>): string | null {
  const s = host.state;
  if (s.kind !== 'member' || s.ring.id !== 0) return 'this peer is not the leader of a ring';
  if (host.op !== null) return 'the leader is busy with another ring operation';
  if (s.ring.peers.some((p) => p.name === m.joiner.name)) return `${m.joiner.name} is already in the ring`;
  if (s.ring.n >= MAX_RING) return `the ring already has ${MAX_RING} members`;
  // Only a joiner the manager vouched for (join-notice), and only once.
  const v = host.ctx.creds.vouched;
  if (!v || v.dht !== s.ring.dht || v.joiner.name !== m.joiner.name || !sameAddr(v.joiner, m.joiner) || !sameAddr(v.joiner, from)) {
    return `the manager did not vouch for ${m.joiner.name} joining this DHT`;
  }
  host.ctx.creds.vouched = null;
  host.start(new AdmitOp(m.joiner, s.ring.year));
  return null;
}
