// What a peer checks of a datagram before any handler sees it, apart from the state table
// (accepts.ts): in default mode (PROTOCOL §8) a ring message counts only with the DHT's secret
// and only once (a new request id in the sender's replay window, reliable/replay.ts); a manager
// datagram counts only with this peer's token. Kept apart from core.ts so that the rules of who
// may speak are in one place.
import type { MessageOf, PeerMessage } from '../protocol/messages.js';
import { sameSecret } from '../protocol/secrets.js';
import { addrKey, type Addr } from '../reliable/index.js';
import type { Host } from './operation.js';
import { onRepairNotice } from './repair.js';

type RingMessage = Exclude<PeerMessage, { t: 'find-event' | 'event-result' }>;
type QueryMessage = MessageOf<'find-event'> | MessageOf<'event-result'>;
export type Notice = MessageOf<'dissolved'> | MessageOf<'dht-notice'> | MessageOf<'join-notice'> | MessageOf<'repair'>;

/**
 * The secret a ring message must carry here: the ring's; a joiner's or leaver's from its
 * operation; for set-id at a Free peer, the one the manager announced (dht-notice). Null: none.
 */
export function expectedSecret(host: Host, t: PeerMessage['t']): string | null {
  if (host.state.kind === 'member') return host.state.ring.sec;
  const op = host.op;
  if ((op?.kind === 'join' || op?.kind === 'leave') && op.sec !== null) return op.sec;
  if (t === 'set-id' && host.state.kind === 'free') return host.ctx.creds.announced?.sec ?? null;
  return null;
}

/**
 * Whether a ring message may go to its handler: false after refusing it (a complaint) or after
 * re-acknowledging a duplicate (never applied twice). The caller marks the id once it is taken.
 */
export function ringGate(host: Host, from: Addr, msg: RingMessage): boolean {
  const ctx = host.ctx;
  const sec = expectedSecret(host, msg.t);
  if (sec === null || !sameSecret(msg.sec, sec)) {
    ctx.complain(from, msg.t, 'without the secret of this peer\'s DHT');
    return false;
  }
  const fresh = ctx.replayWindows(sec).check(addrKey(from), msg.rid);
  if (fresh === 'duplicate') {
    // A retransmission: acknowledge, never apply twice.
    ctx.emit({ kind: 'note', verdict: 'duplicate' });
    ctx.ack('p', from, msg.rid);
    return false;
  }
  if (fresh === 'old') {
    ctx.complain(from, msg.t, 'an old request id (a replay, or too late)');
    return false;
  }
  return true;
}

/**
 * A notice from the manager's address (m-port): applied (by `apply`) only with this peer's token
 * and a new request id, acknowledged when genuine (a duplicate again, an old one not at all).
 */
export function noticeGate(host: Host, from: Addr, msg: Notice, apply: (msg: Notice) => void): void {
  const ctx = host.ctx;
  const token = ctx.creds.token;
  if (token === null || !sameSecret(msg.tok, token)) return ctx.complain(from, msg.t, 'without this peer\'s token');
  const fresh = ctx.managerIds.check('manager', msg.rid);
  if (fresh === 'old') return ctx.complain(from, msg.t, 'an old request id (a replay, or too late)');
  if (fresh === 'new') {
    ctx.managerIds.mark('manager', msg.rid);
    apply(msg);
  }
  ctx.ack('m', from, msg.rid);
}

/**
 * Query traffic (find-event, event-result) is not ring traffic: its first hop comes from a Free
 * querier and its answer goes to one, neither of which holds the secret, so the handler checks
 * the manager's capability, the secret on later hops, or the query id. Here: each datagram is
 * applied once per sender's request id (a duplicate would fork a walk); a first try (loose) is
 * not acknowledged, a retry (`ack: true`, PROTOCOL §4.9) is, hop by hop.
 */
export function queryGate(host: Host, from: Addr, msg: QueryMessage, refused: string | null, handle: () => string | null): void {
  const ctx = host.ctx;
  const sender = addrKey(from);
  const ids = msg.ack ? ctx.queryIds : ctx.looseQueryIds;
  const fresh = ids.check(sender, msg.rid);
  if (fresh === 'duplicate') {
    ctx.emit({ kind: 'note', verdict: 'duplicate' });
    if (msg.ack) ctx.ack('p', from, msg.rid);
    return;
  }
  if (fresh === 'old') return ctx.complain(from, msg.t, 'an old request id (a replay, or too late)');
  const why = refused ?? handle();
  if (why !== null) return ctx.complain(from, msg.t, why);
  ids.mark(sender, msg.rid);
  if (msg.ack) ctx.ack('p', from, msg.rid);
}

/** A genuine notice from the manager: what it changes here. */
export function applyNotice(host: Host, msg: Notice, onDissolved: (text: string) => void): void {
  const creds = host.ctx.creds;
  switch (msg.t) {
    case 'dissolved': {
      // Only the DHT this peer is in (or is joining) may be dissolved here, never a newer one.
      const mine = host.state.kind === 'member' ? host.state.ring.dht : host.op?.kind === 'join' ? host.op.dht : null;
      if (mine === null || mine === msg.dht) onDissolved(msg.text);
      if (creds.announced?.dht === msg.dht) creds.announced = null;
      return;
    }
    case 'dht-notice':
      creds.announced = { dht: msg.dht, leader: msg.leader, sec: msg.sec };
      return;
    case 'join-notice':
      creds.vouched = { dht: msg.dht, joiner: msg.joiner };
      return;
    case 'repair':
      return onRepairNotice(host, msg.dht, msg.dead);
  }
}
