// Failure detection (PROTOCOL §4.11), a pure core the manager drives: every registered peer sends
// `alive` to the manager every `heartbeatMs`; a peer not heard from for `suspectMs` is suspected
// and probed directly (`probe`, answered at once with `alive`) every `probeMs`; one not heard from
// for `deadMs` is declared dead. Anything heard from the peer (heartbeat or answer) clears the
// suspicion. The manager alone declares a death.
//
// One timer for all peers: the manager scans its peers every `tickMs` (O(peers), 20 times a
// second at most), so the cost does not depend on how many datagrams arrive.

export interface LivenessConfig {
  /** A registered peer sends `alive` this often (told in the register answer, `hb`). */
  heartbeatMs: number;
  /** Silence after which the peer is suspected and probed. */
  suspectMs: number;
  /** While suspected, one probe every this many ms (on the tick that follows). */
  probeMs: number;
  /** Silence after which the peer is declared dead. */
  deadMs: number;
  /** How often the manager looks (the declaration is at most this late). */
  tickMs: number;
  /** While suspected, a round of indirect probes (ping-req through other peers) every this many ms. */
  indirectMs: number;
  /**
   * A peer just registered (or restored) is given this much longer before its first datagram:
   * its register answer, which holds its token, may be lost and retransmitted a few times.
   */
  graceMs: number;
}

/**
 * The defaults: declared within deadMs + tickMs = 1.75 s of the last datagram heard; under 30 %
 * independent loss a live peer is declared dead only if its ~6 heartbeats and ~19 probe round
 * trips of one window are all lost: 0.3⁶ · 0.51¹⁹ ≈ 2·10⁻⁹ per window (measured: PROTOCOL §4.11).
 */
export const DEFAULT_LIVENESS: LivenessConfig = { heartbeatMs: 250, suspectMs: 700, probeMs: 50, deadMs: 1700, tickMs: 50, indirectMs: 250, graceMs: 10_000 };

/** A scan this late (ms) counts against the manager's local health. */
const LATE_SCAN_MS = 20;
const MAX_HEALTH = 8;

interface Watch {
  heard: number;
  /** Nothing heard yet since watching began: `heard` is in the future by the grace. */
  fresh: boolean;
  /** When the last probe went out (suspected peers only). */
  probed?: number;
  /** When the last round of indirect probes went out (suspected peers only). */
  indirect?: number;
}

export interface Due {
  /** Suspected peers to probe now. */
  probe: string[];
  /** Suspected peers to probe indirectly now (ping-req through other peers). */
  indirect: string[];
  /** Peers declared dead now, with how long each was silent (ms). No longer watched. */
  dead: { name: string; silentMs: number }[];
}

export class Liveness {
  private readonly watched = new Map<string, Watch>();
  private nextTick: number | undefined;
  /** Suspicions raised (a peer went silent for suspectMs) and cleared, for the status line and the figures. */
  suspicions = 0;
  probes = 0;
  /** Scans that came late enough to be forgiven (the manager itself was stalled). */
  stalls = 0;
  /** Local health score, 0 (healthy) to MAX_HEALTH: raised by late scans (see due). */
  health = 0;

  constructor(readonly config: LivenessConfig) {}

  /** Start watching a peer (registered now, or restored: it gets a whole window from `now`). */
  watch(name: string, now: number): void {
    this.watched.set(name, { heard: now + this.config.graceMs, fresh: true });
    if (this.nextTick === undefined) this.nextTick = now + this.config.tickMs;
  }

  forget(name: string): void {
    this.watched.delete(name);
    if (this.watched.size === 0) this.nextTick = undefined;
  }

  /** A datagram with the peer's token came from it: it is alive. */
  heard(name: string, now: number): void {
    const w = this.watched.get(name);
    if (!w) return;
    w.heard = w.fresh ? now : Math.max(w.heard, now);
    w.fresh = false;
    delete w.probed;
    delete w.indirect;
  }

  /**
   * A request retransmitted from the peer's address (its register, whose answer holds the token,
   * was lost): it lives, but cannot send `alive` yet — a fresh peer's grace starts again.
   */
  retransmitted(name: string, now: number): void {
    const w = this.watched.get(name);
    if (!w) return;
    if (w.fresh) w.heard = Math.max(w.heard, now + this.config.graceMs);
    else this.heard(name, now);
  }

  /** When the peer was last heard (undefined: not watched). */
  lastHeard(name: string): number | undefined {
    return this.watched.get(name)?.heard;
  }

  /** Nothing heard from the peer since it registered (its register answer, with its token, may be lost). */
  isFresh(name: string): boolean {
    return this.watched.get(name)?.fresh === true;
  }

  isSuspected(name: string, now: number): boolean {
    const w = this.watched.get(name);
    return w !== undefined && now - w.heard >= this.config.suspectMs;
  }

  get size(): number {
    return this.watched.size;
  }

  /** The scan: who to probe, who is dead. Call when `now >= nextDeadline()`. */
  due(now: number): Due {
    const out: Due = { probe: [], indirect: [], dead: [] };
    if (this.nextTick === undefined || now < this.nextTick) return out;
    const c = this.config;
    // Local health first (Lifeguard's lesson): a scan much later than planned means this process
    // was not running (a stall, a flood of datagrams, a suspended VM), and the peers' datagrams of
    // that time may still wait unread in the socket (a timer runs before the socket is read). The
    // time the manager was not looking is not the peers' silence: it is added to every window.
    const late = now - this.nextTick;
    if (late > c.tickMs) {
      for (const w of this.watched.values()) w.heard += late;
      this.stalls += 1;
    }
    // Lifeguard's local health multiplier: scans that keep coming late mean this machine is
    // overloaded, and so, likely, are the peers on it (a starved peer's heartbeats come late
    // too). Each late scan raises the score, each punctual one lowers it; the suspicion and death
    // windows grow with it (at most ×(1 + MAX_HEALTH/2)). In the simulation scans are punctual.
    this.health = late > LATE_SCAN_MS ? Math.min(MAX_HEALTH, this.health + 1) : Math.max(0, this.health - 0.25);
    const stretch = 1 + this.health / 2;
    for (const [name, w] of this.watched) {
      const silent = now - w.heard;
      if (silent >= c.deadMs * stretch) {
        out.dead.push({ name, silentMs: silent });
        continue;
      }
      if (silent < c.suspectMs * stretch) continue;
      if (w.probed === undefined) this.suspicions += 1;
      if (w.probed === undefined || now - w.probed >= c.probeMs) {
        w.probed = now;
        this.probes += 1;
        out.probe.push(name);
      }
      if (w.indirect === undefined || now - w.indirect >= c.indirectMs) {
        w.indirect = now;
        out.indirect.push(name);
      }
    }
    for (const d of out.dead) this.watched.delete(d.name);
    this.nextTick = this.watched.size > 0 ? now + c.tickMs : undefined;
    return out;
  }

  nextDeadline(): number | undefined {
    return this.nextTick;
  }
}
