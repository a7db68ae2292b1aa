// Messages ↔ datagrams. Almost every message fits one datagram; the few that list a whole ring
// (setup-dht's answer, set-id, reset-id, join-dht's answer) outgrow the payload limit once a ring
// has more than ~25 peers. Those are cut into `frag` datagrams and put back together here, below
// the cores, so the cores and the reliable layer see whole messages only. A lost fragment loses
// the message, and the sender's retransmission sends every fragment again.
import { decode, encode, HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD, type Decoded } from './codec.js';
import type { Message } from './messages.js';
import { addrKey, type Addr } from '../reliable/outbox.js';

/** Bound on a reassembled message, and on the partial messages kept per receiver. */
export const MAX_FRAGMENTS = 64;
const MAX_PARTIALS = 256;
/**
 * Bytes held in partial messages, all senders together. A whole message is at most 64 × 1,400
 * bytes today (~90 KB), so 4 MB holds dozens at once; a flood of fragments that never complete
 * (up to 64 × 12,000 bytes each) pushes out the oldest instead of growing the process.
 */
export const MAX_PARTIAL_BYTES = 4 * 1024 * 1024;
/** A partial message older than this is dropped: its pieces come in one burst, a resend is a new message. */
export const PARTIAL_TTL_MS = 30_000;
/** Bytes of a frag datagram besides its data: {"t":"frag","f":…,"i":…,"of":…,"d":"…"}. */
const FRAG_ENVELOPE = 70;

export type Received = Decoded | { ok: 'partial' };

/**
 * A path that allows larger datagrams: from this process to another process of the same machine
 * (net/local.ts decides which addresses those are). Store batches sent over it may be up to
 * `payload` bytes (0: never larger than the configured maximum), and are taken from such a
 * process up to LOCAL_MAX_PAYLOAD whatever our own `payload`, so peers configured differently
 * still understand each other; every other message keeps the configured maximum, so captures
 * and fragments look the same on every path.
 */
export interface LocalPath {
  payload: number;
  isLocal(ip: string): boolean;
}

interface Partial { parts: (string | undefined)[]; have: number; bytes: number; at: number }

/** Largest first fragment id: ids start at a random point below it (see the constructor). */
export const MAX_FIRST_FRAG = 2 ** 40;

export class Wire {
  private nextFrag: number;
  /** Insertion order is age order: the oldest partial comes first. */
  private readonly partials = new Map<string, Partial>();
  private partialBytes = 0;

  /**
   * `firstFrag`: where this process's fragment ids start. A receiver keeps partial messages by
   * sender address and id, so a process restarted on the same ports must not reuse its previous
   * life's ids: a stale partial completed by a new message's fragments would be a corrupt, yet
   * possibly well-formed, message. Callers pass a random start (as request ids have).
   */
  constructor(private readonly maxPayload: number, firstFrag = 1, private readonly local?: LocalPath) {
    this.nextFrag = Math.max(1, Math.floor(firstFrag));
  }

  /** The datagrams that carry one message to `to` (a store batch may be larger on a local path). */
  datagrams(msg: Message, to?: Addr): Buffer[] {
    const bytes = encode(msg);
    if (bytes.length <= this.maxPayload) return [bytes];
    if (msg.t === 'store' && to && this.local && bytes.length <= Math.min(this.local.payload, LOCAL_MAX_PAYLOAD) && this.local.isLocal(to.ip)) return [bytes];
    const chunk = Math.floor(((Math.min(this.maxPayload, HARD_MAX_PAYLOAD) - FRAG_ENVELOPE) * 3) / 4 / 3) * 3;
    const of = Math.ceil(bytes.length / chunk);
    if (of > MAX_FRAGMENTS) throw new Error(`a ${msg.t} message of ${bytes.length} bytes needs ${of} fragments (limit ${MAX_FRAGMENTS})`);
    const f = this.nextFrag++;
    const out: Buffer[] = [];
    for (let i = 0; i < of; i++) {
      const d = bytes.subarray(i * chunk, (i + 1) * chunk).toString('base64');
      out.push(Buffer.from(JSON.stringify({ t: 'frag', f, i, of, d })));
    }
    return out;
  }

  /**
   * One received datagram: a whole message, a rejection with its reason, or a fragment kept for
   * later. `now` (ms, any clock) lets partial messages expire after PARTIAL_TTL_MS; without it
   * they are bounded by count and bytes only.
   */
  receive(from: Addr, bytes: Uint8Array, now?: number): Received {
    // Accept up to the hard ceiling whatever our own sending limit: peers may be configured differently.
    // A larger store batch only from a process of this machine, and only when we use local paths too.
    const first = decode(bytes, HARD_MAX_PAYLOAD, this.local && bytes.length > HARD_MAX_PAYLOAD && this.local.isLocal(from.ip) ? LOCAL_MAX_PAYLOAD : HARD_MAX_PAYLOAD);
    if (!first.ok) return first;
    if (first.msg.t !== 'frag') return { ok: true, msg: first.msg };
    const { f, i, of, d } = first.msg;
    if (i >= of) return { ok: false, reason: `bad frag: part ${i} of ${of}` };
    if (now !== undefined) this.expire(now);
    const key = `${addrKey(from)}#${f}`;
    let partial = this.partials.get(key);
    if (!partial) {
      if (this.partials.size >= MAX_PARTIALS) this.dropOldest();
      partial = { parts: new Array<string | undefined>(of), have: 0, bytes: 128 + 8 * of, at: now ?? 0 };
      this.partials.set(key, partial);
      this.partialBytes += partial.bytes;
    }
    if (partial.parts.length !== of) return { ok: false, reason: 'bad frag: part count changed' };
    const before = partial.parts[i];
    if (before === undefined) partial.have += 1;
    partial.parts[i] = d;
    this.grow(partial, d.length - (before?.length ?? 0));
    if (partial.have < of) return { ok: 'partial' };
    this.forget(key, partial);
    const whole = Buffer.concat(partial.parts.map((p) => Buffer.from(p!, 'base64')));
    const msg = decode(whole, MAX_FRAGMENTS * HARD_MAX_PAYLOAD);
    if (!msg.ok) return msg;
    if (msg.msg.t === 'frag') return { ok: false, reason: 'bad frag: nested fragments' };
    return { ok: true, msg: msg.msg };
  }

  /** Bytes and count of the partial messages held (for tests and the soak). */
  held(): { partials: number; bytes: number } {
    return { partials: this.partials.size, bytes: this.partialBytes };
  }

  /** Account for `delta` more bytes in `partial`; over the budget, the oldest other partials go. */
  private grow(partial: Partial, delta: number): void {
    partial.bytes += delta;
    this.partialBytes += delta;
    for (const [key, p] of this.partials) {
      if (this.partialBytes <= MAX_PARTIAL_BYTES) break;
      if (p !== partial) this.forget(key, p); // oldest first; never the one being filled
    }
  }

  /** Drop partials older than the TTL; they are in age order, so this stops at the first young one. */
  private expire(now: number): void {
    for (const [key, p] of this.partials) {
      if (now - p.at < PARTIAL_TTL_MS) break;
      this.forget(key, p);
    }
  }

  private dropOldest(): void {
    const [key, p] = this.partials.entries().next().value as [string, Partial];
    this.forget(key, p);
  }

  private forget(key: string, p: Partial): void {
    this.partials.delete(key);
    this.partialBytes -= p.bytes;
  }
}
