// Reliable delivery over UDP, as a pure data structure: the cores number each request, keep it
// here until its acknowledgement (or response) arrives, and ask here which ones are due again.
// Retransmission uses exponential backoff and a bounded number of tries, so nothing waits forever.
//
// When a request's timeout expires, what the destination acknowledged since tells lost from late
// (docs/PROTOCOL.md §4.3), as TCP's RACK and its timer restarted on every ack do:
// - it acknowledged a request sent after this one's last send: this one was lost (a receiver takes
//   datagrams in order), so it is resent now, without backoff and without counting the try. Under
//   20-30 % loss the tail of a store stream must not wait seconds per hop, and a destination that
//   plainly answers must not be given up on;
// - it acknowledged something since this one was sent, the latest being a request sent before this
//   one: it is working through a queue with this one behind (a store window of 128 batches at a
//   slow receiver), so the request waits until one timeout after that ack, and is resent only then
//   (not counted). Before this rule a third to a half of a setup's batches were resent while queued;
// - it acknowledged nothing: it is silent (stalled, gone, or everything was lost). The try counts,
//   the wait doubles, and for its first silent timeouts only the oldest request toward it is
//   resent (TCP resends the head on a timeout): a receiver stalled under a window of batches gets
//   one copy, not 128; when it answers, the others follow the rules above.
export interface Addr { ip: string; port: number }
export const addrKey = (a: Addr): string => `${a.ip}:${a.port}`;
export const sameAddr = (a: Addr, b: Addr): boolean => a.port === b.port && a.ip === b.ip;

export interface RetryPolicy {
  /** First retransmission timeout toward an address whose round-trip time is not known yet. */
  rtoMs: number;
  /** Floor of the measured timeout (RFC 6298 style: smoothed RTT + 4 × its variation). */
  minRtoMs?: number;
  /** Ceiling of the doubled timeout. */
  maxRtoMs: number;
  /** Sends to a silent destination, the first included, before the request is reported as failed. */
  maxTries: number;
}
/** LAN and loopback defaults: a silent peer is given up on after 10 timeouts, about 20 s. */
export const DEFAULT_RETRY: RetryPolicy = { rtoMs: 200, minRtoMs: 60, maxRtoMs: 3200, maxTries: 10 };

/** A message before it is numbered (distributes over unions, unlike Omit). */
export type WithoutRid<M> = M extends unknown ? Omit<M, 'rid'> : never;

export interface Pending<M, Tag> {
  rid: number;
  to: Addr;
  msg: M;
  /** Sends so far, the first included. */
  tries: number;
  /** Timeouts after which the destination had not been heard from at all. */
  silent: number;
  due: number;
  sentAt: number;
  lastSentAt: number;
  /** Order of the first and of the latest send among all sends of this outbox (ack ordering). */
  seq: number;
  lastSeq: number;
  /** The latest send or silent timeout: the destination is alive if heard from after it. */
  checkedAt: number;
  tag: Tag;
  /** Resent after one timeout each time, never backed off (a query's hop: small, and late is useless). */
  steady: boolean;
  /** Silent timeouts before it fails, when fewer than the policy's (a hop that has a fallback). */
  maxTries?: number;
}

/** Bound on the sends of one request even to a destination that keeps answering others. */
export const MAX_SENDS = 100;

/** Smoothed round-trip time and its variation toward one address (Jacobson/Karels). */
interface Rtt { srtt: number; rttvar: number }
/**
 * What a destination last did: when it last acknowledged or answered anything (`at`), the latest
 * send of that request (`last`), and the latest first send (`seq`) among the requests it settled:
 * every request last sent before that one and still unsettled was lost. The first send, not the
 * latest, since an ack does not say which send it answers (Karn): the first is certainly before it.
 */
interface Heard { at: number; last: number; seq: number }
const MAX_RTT_ENTRIES = 1024;

/**
 * Silent timeouts during which only the oldest request toward a destination is resent: with the
 * 60 ms floor, a receiver stalled for up to ~420 ms (1 + 2 + 4 timeouts) gets one copy, not its
 * whole window; after that every request is resent (with backoff) as if alone.
 */
const HOLD_SILENT = 3;

/** Bound on requests awaiting acknowledgement: a bug that leaks them must fail loudly, not eat memory. */
const MAX_PENDING = 100_000;

export class Outbox<M extends { rid: number }, Tag> {
  private readonly pending = new Map<number, Pending<M, Tag>>();
  private readonly rtts = new Map<string, Rtt>();
  private readonly heard = new Map<string, Heard>();
  private nextRid: number;
  private nextSeq = 0;

  constructor(private readonly policy: RetryPolicy, firstRid: number) {
    this.nextRid = firstRid;
  }

  /**
   * Number a message and remember it until acknowledged. A `steady` one is resent after one
   * timeout every time (no backoff); it still fails after `maxTries` silent timeouts (the
   * policy's, or `maxTries` when smaller: a sender that has another way to go gives up sooner).
   */
  send(now: number, to: Addr, body: WithoutRid<M>, tag: Tag, steady = false, maxTries?: number): M {
    if (this.pending.size >= MAX_PENDING) throw new Error(`outbox overflow: ${this.pending.size} unacknowledged requests`);
    const rid = this.nextRid++;
    const msg = { ...body, rid } as unknown as M;
    const seq = this.nextSeq++;
    this.pending.set(rid, { rid, to, msg, tries: 1, silent: 0, due: now + this.rto(to), sentAt: now, lastSentAt: now, seq, lastSeq: seq, checkedAt: now, tag, steady, ...(maxTries !== undefined ? { maxTries } : {}) });
    return msg;
  }

  /** The request id the next message gets (saved by the manager, manager/durable.ts). */
  get next(): number {
    return this.nextRid;
  }

  /**
   * Number from `rid` on, if that is higher: a restarted manager goes on above its previous
   * life's notices, which its peers' replay windows remember (PROTOCOL §4.10).
   */
  skipTo(rid: number): void {
    this.nextRid = Math.max(this.nextRid, rid);
  }

  /** Number a message that is not tracked (its sender retries end to end, as for queries). */
  stamp(body: WithoutRid<M>): M {
    return { ...body, rid: this.nextRid++ } as unknown as M;
  }

  /**
   * An acknowledgement (or response) for rid arrived from `from`; only the addressee may settle it.
   * With `now`, a first-try answer is a round-trip sample (Karn: retransmitted ones are ambiguous).
   */
  settle(rid: number, from: Addr, now?: number): Pending<M, Tag> | undefined {
    const p = this.pending.get(rid);
    if (!p || !sameAddr(p.to, from)) return undefined;
    this.pending.delete(rid);
    if (now !== undefined) {
      this.hear(p.to, now, p.seq, p.lastSeq);
      if (p.tries === 1) this.sample(p.to, now - p.sentAt);
    }
    return p;
  }

  /** The timeout for a first try toward `to`: measured when possible, else the policy's. */
  rto(to: Addr): number {
    const r = this.rtts.get(addrKey(to));
    if (!r) return this.policy.rtoMs;
    return Math.min(this.policy.maxRtoMs, Math.max(this.policy.minRtoMs ?? this.policy.rtoMs, r.srtt + 4 * r.rttvar));
  }

  private hear(from: Addr, now: number, seq: number, last: number): void {
    const key = addrKey(from);
    const h = this.heard.get(key);
    if (h) {
      h.at = now;
      h.last = last;
      h.seq = Math.max(h.seq, seq);
      return;
    }
    if (this.heard.size >= MAX_RTT_ENTRIES) this.heard.delete(this.heard.keys().next().value as string);
    this.heard.set(key, { at: now, last, seq });
  }

  private sample(to: Addr, rtt: number): void {
    const key = addrKey(to);
    const r = this.rtts.get(key);
    if (!r) {
      if (this.rtts.size >= MAX_RTT_ENTRIES) this.rtts.delete(this.rtts.keys().next().value as string);
      this.rtts.set(key, { srtt: rtt, rttvar: rtt / 2 });
      return;
    }
    r.rttvar = 0.75 * r.rttvar + 0.25 * Math.abs(r.srtt - rtt);
    r.srtt = 0.875 * r.srtt + 0.125 * rtt;
  }

  /**
   * Requests due for another try (already rescheduled) and requests out of tries (removed).
   * A `steady` request ignores ack ordering: resent after every timeout, never backed off.
   */
  expire(now: number): { resend: Pending<M, Tag>[]; failed: Pending<M, Tag>[] } {
    const resend: Pending<M, Tag>[] = [];
    const failed: Pending<M, Tag>[] = [];
    // Destinations with an older request pending (the map keeps requests in order of first send).
    // A query hop is not one: its receiver may refuse it without an ack, and it is resent anyway.
    const ahead = new Set<string>();
    for (const p of this.pending.values()) {
      const key = addrKey(p.to);
      const behind = ahead.has(key);
      if (!p.steady) ahead.add(key);
      if (p.due > now) continue;
      const h = this.heard.get(key);
      const lost = h !== undefined && h.seq > p.lastSeq;
      const alive = h !== undefined && h.at > p.checkedAt;
      // Queued behind requests it is still acknowledging (its latest ack answers a request sent
      // before this one): one timeout after that ack. An ack of a request resent after this one
      // proves nothing (it may answer an earlier copy) but is no sign of a queue either: the tail
      // of a stream under loss, where it is the resends that get acknowledged.
      if (!lost && alive && !p.steady && h.last < p.lastSeq) {
        const until = h.at + this.rto(p.to);
        if (until > now) {
          p.due = until;
          continue;
        }
      }
      if (!lost && !alive) p.silent += 1;
      if (p.silent >= Math.min(this.policy.maxTries, p.maxTries ?? Infinity) || p.tries >= MAX_SENDS) {
        this.pending.delete(p.rid);
        failed.push(p);
        continue;
      }
      const backoff = lost || alive || p.steady ? 1 : 2 ** p.silent;
      p.checkedAt = now;
      p.due = now + Math.min(this.policy.maxRtoMs, this.rto(p.to) * backoff);
      // A silent destination gets its oldest request again; the others wait for its answer, but
      // not for ever: the oldest may be one it will never acknowledge (refused, or not for it),
      // and a request behind it whose first copy was lost must not wait for that one to fail.
      if (!lost && !alive && behind && !p.steady && p.silent < HOLD_SILENT) continue;
      p.tries += 1;
      p.lastSentAt = now;
      p.lastSeq = this.nextSeq++;
      resend.push(p);
    }
    return { resend, failed };
  }

  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const p of this.pending.values()) if (min === undefined || p.due < min) min = p.due;
    return min;
  }

  /** Forget requests that no longer matter (e.g. a job was abandoned). */
  drop(predicate: (p: Pending<M, Tag>) => boolean): void {
    for (const p of this.pending.values()) if (predicate(p)) this.pending.delete(p.rid);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The requests awaiting acknowledgement, oldest first (the manager saves its notices, manager/snapshot.ts). */
  waiting(): Pending<M, Tag>[] {
    return [...this.pending.values()];
  }
}
