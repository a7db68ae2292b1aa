// The peer's part in failure detection on its m-port (PROTOCOL §4.11), apart from the heartbeat
// timer (heartbeat.ts): answer the manager's `probe` with `alive`; carry out the manager's
// indirect probes (SWIM's ping-req: ping the suspect, and when it answers tell the manager with
// `alive` carrying the nonce); answer other peers' `ping` with `pong`. Everything here is
// unacknowledged and bounded: a few pending pings, a cap on pongs per second.
import type { Message } from '../protocol/messages.js';
import { sameSecret } from '../protocol/secrets.js';
import type { Addr } from '../reliable/index.js';
import type { PeerContext } from './context.js';

/** Indirect probes carried out at once (the manager asks two helpers per suspect per round). */
const MAX_PENDING = 16;
/** A ping not answered within this is forgotten (the manager sends a new round anyway). */
const PENDING_MS = 1_000;
/** Pongs per second at most: a `ping` from anyone must not make this peer a traffic source. */
const MAX_PONGS_PER_S = 50;

type LivenessMessage = Extract<Message, { t: 'probe' | 'ping-req' | 'ping' | 'pong' }>;

export function isLivenessMessage(msg: Message): msg is LivenessMessage {
  return msg.t === 'probe' || msg.t === 'ping-req' || msg.t === 'ping' || msg.t === 'pong';
}

export class Probes {
  /** Nonce → when it is forgotten, with the m-port pinged. */
  private readonly pending = new Map<string, { until: number; target: Addr }>();
  private pongSecond = -1;
  private pongs = 0;

  constructor(private readonly ctx: PeerContext) {}

  /** `alive` to the manager from the m-port, with the token (and the nonce of an indirect probe). */
  sendAlive(nonce?: string): void {
    const tok = this.ctx.creds.token;
    if (tok === null) return;
    this.ctx.send('m', this.ctx.manager, { t: 'alive', rid: 0, tok, ...(nonce !== undefined ? { nonce } : {}) }, 1);
  }

  handle(from: Addr, msg: LivenessMessage): void {
    const ctx = this.ctx;
    const token = ctx.creds.token;
    if (token === null) return ctx.complain(from, msg.t, 'this peer is not registered');
    const fromManager = from.ip === ctx.manager.ip && from.port === ctx.manager.port;
    switch (msg.t) {
      case 'probe':
      case 'ping-req':
        if (!fromManager) return ctx.complain(from, msg.t, 'not from the manager');
        if (!sameSecret(msg.tok, token)) return ctx.complain(from, msg.t, 'without this peer\'s token');
        if (msg.t === 'probe') return this.sendAlive();
        return this.pingFor(msg.nonce, { ip: msg.ip, port: msg.port });
      case 'ping':
        return this.pong(from, msg.nonce);
      case 'pong': {
        const p = this.pending.get(msg.nonce);
        if (!p || p.target.ip !== from.ip || p.target.port !== from.port) return ctx.complain(from, msg.t, 'no ping of this peer is waiting for it');
        this.pending.delete(msg.nonce);
        return this.sendAlive(msg.nonce);
      }
    }
  }

  private pingFor(nonce: string, target: Addr): void {
    const now = this.ctx.now;
    for (const [n, p] of this.pending) if (p.until <= now) this.pending.delete(n);
    if (this.pending.size >= MAX_PENDING) return;
    this.pending.set(nonce, { until: now + PENDING_MS, target });
    this.ctx.send('m', target, { t: 'ping', rid: 0, nonce }, 1);
  }

  private pong(to: Addr, nonce: string): void {
    const second = Math.floor(this.ctx.now / 1000);
    if (second !== this.pongSecond) {
      this.pongSecond = second;
      this.pongs = 0;
    }
    if (++this.pongs > MAX_PONGS_PER_S) return this.ctx.emit({ kind: 'note', verdict: 'ignored' });
    this.ctx.send('m', to, { t: 'pong', rid: 0, nonce }, 1);
  }
}
