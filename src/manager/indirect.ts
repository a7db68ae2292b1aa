// Indirect probes (SWIM's ping-req, PROTOCOL §4.11): while a peer is suspected, the manager asks
// up to two other live peers to ping it from their own m-ports. A suspect that answers them (its
// `pong`) is reported back with `alive` carrying the probe's unguessable nonce, and counts as
// heard: a bad link between the manager and one peer, or datagrams lost on it, do not make a death
// while other peers still reach it. Bounded: one nonce per helper per round, forgotten after 1 s.
import type { MessageOf } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import type { PeerEntry } from './state.js';

/** Helpers asked per suspect per round. */
export const HELPERS = 2;
/** A nonce not answered within this is forgotten. */
const NONCE_MS = 1_000;
/** Nonces outstanding at most (a bound, whatever the number of suspects). */
const MAX_NONCES = 256;

export interface PingReqSend { to: Addr; msg: MessageOf<'ping-req'> }

export class IndirectProbes {
  /** Nonce → the suspect it is about, the helper asked, and when it is forgotten. */
  private readonly nonces = new Map<string, { target: string; helper: string; until: number }>();
  /** Rounds of ping-req sent, and suspects heard through a helper: for the figures. */
  rounds = 0;
  confirmed = 0;

  /** One round for `suspect`: a ping-req to each helper (chosen by the caller). */
  ask(now: number, suspect: PeerEntry, helpers: readonly PeerEntry[], nonce: () => string): PingReqSend[] {
    for (const [n, v] of this.nonces) if (v.until <= now) this.nonces.delete(n);
    const out: PingReqSend[] = [];
    for (const h of helpers) {
      if (this.nonces.size >= MAX_NONCES) break;
      const n = nonce();
      this.nonces.set(n, { target: suspect.name, helper: h.name, until: now + NONCE_MS });
      out.push({ to: { ip: h.ip, port: h.mport }, msg: { t: 'ping-req', rid: 0, tok: h.token, nonce: n, ip: suspect.ip, port: suspect.mport } });
    }
    if (out.length > 0) this.rounds += 1;
    return out;
  }

  /** An `alive` with a nonce from `helper`: the suspect it vouches for, or null (unknown, late, or not asked of it). */
  answered(now: number, helper: string, nonce: string): string | null {
    const v = this.nonces.get(nonce);
    if (!v || v.helper !== helper || v.until <= now) return null;
    this.nonces.delete(nonce);
    this.confirmed += 1;
    return v.target;
  }

  forget(name: string): void {
    for (const [n, v] of this.nonces) if (v.target === name || v.helper === name) this.nonces.delete(n);
  }
}

/** Up to HELPERS registered peers, other than the suspect and not suspected themselves, at random. */
export function pickHelpers(peers: Iterable<PeerEntry>, suspect: string, suspected: (name: string) => boolean, random: () => number): PeerEntry[] {
  const live = [...peers].filter((p) => p.name !== suspect && !suspected(p.name));
  const out: PeerEntry[] = [];
  while (out.length < HELPERS && live.length > 0) out.push(live.splice(Math.floor(random() * live.length), 1)[0]!);
  return out;
}
