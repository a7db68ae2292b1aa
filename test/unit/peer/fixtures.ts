// Peers put into each state of accepts.ts by feeding the real core the inputs that lead there.
import { PeerCore, type PeerEffect, type PeerInput } from '../../../src/peer/core.js';
import type { PeerStateName } from '../../../src/peer/accepts.js';
import type { Message, MessageOf, Tuple } from '../../../src/protocol/messages.js';
import { DEFAULT_RETRY } from '../../../src/reliable/index.js';
import { queryCapability, seededSecret } from '../../../src/protocol/secrets.js';

/** A message as a test writes it: any type, any fields (what the peer makes of it is the test). */
export type LooseMessage = { t: string; [field: string]: unknown };

export const MANAGER = { ip: '127.0.0.1', port: 4000 };
export const P1: Tuple = { name: 'peer1', ip: '127.0.0.1', port: 5102 };
export const P2: Tuple = { name: 'peer2', ip: '127.0.0.1', port: 5202 };
export const P3: Tuple = { name: 'peer3', ip: '127.0.0.1', port: 5302 };
export const P4: Tuple = { name: 'peer4', ip: '127.0.0.1', port: 5402 };
const S = 7;
/** The manager's token for the fixture peer, and the secret of the fixture DHT. */
export const TOK = 'fixtureTokenAAAAAAAAAA';
export const SEC = 'fixtureSecretBBBBBBBBB';
/** Ring messages: they carry the DHT's secret (fromPeer adds it unless the test gives one). */
const RING_TYPES = new Set(['set-id', 'store', 'store-end', 'store-failed', 'teardown', 'reset-id', 'rebuild-dht', 'rebuild-done', 'join']);

export interface Fixture {
  core: PeerCore;
  /** A member of the fixture's ring other than this peer (or peer1 when there is none). */
  other: Tuple;
  /** Who may send rebuild-done (the leader of a join, the new leader of a leave). */
  rebuilder: Tuple;
  epoch: number;
  now: number;
}

export function newCore(seed = 1): PeerCore {
  let x = seed;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  return new PeerCore(MANAGER, { retry: DEFAULT_RETRY, maxPayload: 1400, window: 4, queryTimeoutMs: 5000 }, { random, secret: seededSecret(random) });
}

let rid = 1;
export function feed(core: PeerCore, input: PeerInput, now = 0): PeerEffect[] {
  return core.handle(now, input);
}

/** A peer message from `from`, with the fixture DHT's secret (or, for a query's first hop, the capability) unless given. */
export function fromPeer(core: PeerCore, from: Tuple, msg: LooseMessage, now = 0): PeerEffect[] {
  return feed(core, { kind: 'datagram', via: 'p', from: { ip: from.ip, port: from.port }, msg: { ...credentialsFor(msg), ...msg, rid: rid++ } as Message }, now);
}

function credentialsFor(msg: LooseMessage): object {
  if (RING_TYPES.has(msg.t)) return { sec: SEC };
  if (msg.t === 'find-event') {
    const m = msg as Omit<MessageOf<'find-event'>, 'rid'>;
    return m.remaining === null ? { cap: queryCapability(SEC, m.sender) } : { sec: SEC };
  }
  return {};
}

let managerRid = 1;
/** A notice from the manager (dht-notice, join-notice, dissolved), with the fixture peer's token unless given. */
export function fromManager(core: PeerCore, msg: Record<string, unknown> & { t: string }, now = 0): PeerEffect[] {
  return feed(core, { kind: 'datagram', via: 'm', from: MANAGER, msg: { tok: TOK, ...msg, rid: managerRid++ } as Message }, now);
}

/** The manager answers the request in `effects`. */
export function answer(core: PeerCore, effects: PeerEffect[], res: Partial<MessageOf<'res'>> = {}): PeerEffect[] {
  const cmd = effects.map((e) => (e.kind === 'send' && e.msg.t === 'cmd' ? e.msg : null)).find((m) => m !== null);
  if (!cmd) throw new Error(`no request in ${JSON.stringify(effects)}`);
  return feed(core, { kind: 'datagram', via: 'm', from: MANAGER, msg: { t: 'res', rid: cmd.rid, cmd: cmd.cmd, code: 'SUCCESS', text: 'ok', tok: TOK, sec: SEC, cap: queryCapability(SEC, P2), ...res } });
}

export function type(core: PeerCore, text: string): PeerEffect[] {
  return feed(core, { kind: 'line', text });
}

export function prints(effects: PeerEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'print' ? [e.text] : []));
}

export function registered(): PeerCore {
  const core = newCore();
  type(core, 'register peer2 127.0.0.1 5201 5202');
  answer(core, feed(core, { kind: 'bound' }));
  return core;
}

function setId(core: PeerCore): void {
  fromManager(core, { t: 'dht-notice', dht: 1, leader: P1, sec: SEC });
  fromPeer(core, P1, { t: 'set-id', id: 1, n: 3, peers: [P1, P2, P3], year: 1996, s: S, epoch: 11, dht: 1 });
}

export function fixture(state: PeerStateName): Fixture {
  const base = { other: P1, rebuilder: P1, epoch: 0, now: 0 };
  if (state === 'unregistered') return { core: newCore(), ...base };
  const core = registered();
  if (state === 'free') {
    // Chosen for the DHT of the set-id sample (dht 2, led by peer1).
    fromManager(core, { t: 'dht-notice', dht: 2, leader: P1, sec: SEC });
    return { core, ...base };
  }
  if (state === 'joining') {
    answer(core, type(core, 'join-dht peer2'), { peer: P1, dht: 1 });
    fromPeer(core, P1, { t: 'reset-id', origin: P1, id: 2, n: 3, peers: [P1, P3, P2], year: 1996, s: S, epoch: 13, dht: 1 });
    return { core, ...base, epoch: 13 };
  }
  setId(core);
  if (state === 'member') return { core, ...base, epoch: 11 };
  if (state === 'leader') {
    // peer1 leaves: its right neighbour (this peer) becomes node 0 of the ring of two.
    fromPeer(core, P1, { t: 'reset-id', origin: P1, id: 0, n: 2, peers: [P2, P3], year: 1996, s: S, epoch: 12, dht: 1 });
    // The manager vouches for peer4, the join sample's joiner.
    fromManager(core, { t: 'join-notice', dht: 1, joiner: P4 });
    return { core, ...base, other: P3, epoch: 12 };
  }
  // leaving: the teardown came back; the reset-id is on its way around.
  answer(core, type(core, 'leave-dht peer2'));
  fromPeer(core, P1, { t: 'teardown', origin: 'peer2', dissolve: false, epoch: 11 });
  return { core, ...base, rebuilder: P3, epoch: 11 };
}

/** A message of type t that the handler takes, when the state takes its type at all. */
export function sample(t: string, fx: Fixture): { from: Tuple; msg: LooseMessage } {
  const { other, epoch } = fx;
  switch (t) {
    case 'set-id': return { from: other, msg: { t, id: 1, n: 2, peers: [other, P2], year: 1996, s: S, epoch: 21, dht: 2 } };
    case 'store': return { from: other, msg: { t, epoch, to: 1, recs: '' } };
    case 'store-end': return { from: other, msg: { t, epoch, counts: [] } };
    case 'store-failed': return { from: other, msg: { t, epoch, text: 'broken' } };
    case 'teardown': return { from: other, msg: { t, origin: other.name, dissolve: false, epoch } };
    case 'reset-id': return { from: other, msg: { t, origin: other, id: 1, n: 2, peers: [other, P2], year: 1996, s: S, epoch: 31, dht: 1 } };
    case 'rebuild-dht': return { from: P1, msg: { t, year: 1996, origin: P1 } };
    case 'rebuild-done': return { from: fx.rebuilder, msg: { t, leader: fx.rebuilder.name, ok: true, counts: [1, 2], text: 'done' } };
    case 'join': return { from: P4, msg: { t, joiner: P4 } };
    case 'find-event': return { from: P4, msg: { t, qid: 5, eventId: 42, sender: P4, remaining: null, idSeq: [] } };
    case 'event-result': return { from: P4, msg: { t, qid: 5, eventId: 42, found: false, idSeq: [0] } };
    default: throw new Error(`no sample for ${t}`);
  }
}

/** Everything observable about a peer's state, to check that an ignored message changed nothing. */
export function snapshot(core: PeerCore): string {
  return JSON.stringify({ d: core.describe(), s: core.statusLines(), ring: core.ring, idle: core.idle, held: core.table.count });
}
