// Replay protection by request id (PROTOCOL §4.4), as WireGuard and IPsec do it: each sender
// numbers its requests with one increasing counter, and the receiver keeps, per sender, the
// highest id taken and a bitmap of the WINDOW ids below it. An id above the window's floor
// that is not marked is new; a marked one is a duplicate (re-acknowledged, not applied); one at
// or below the floor is too old to tell and is refused, so a datagram captured and sent again
// later never acts twice, however long after. Ids in flight may arrive out of order by up to the
// window (a sender's store window of at most 4,096 batches, with its other sends in between).
// Only ids the receiver took (authenticated and applied) are marked: a forged datagram cannot
// move the window.

/** Ids tracked below the highest one taken, per sender. */
export const REPLAY_WINDOW = 32_768;
/** Senders tracked at once (a ring has at most 256 members); the least recently heard go first. */
export const MAX_SENDERS = 1_024;

export type Freshness = 'new' | 'duplicate' | 'old';

class Window {
  top = -1;
  private readonly bits = new Uint32Array(REPLAY_WINDOW / 32);

  check(rid: number): Freshness {
    if (rid > this.top) return 'new';
    if (rid <= this.top - REPLAY_WINDOW) return 'old';
    return this.has(rid) ? 'duplicate' : 'new';
  }

  mark(rid: number): void {
    if (rid > this.top) {
      const shift = this.top < 0 ? REPLAY_WINDOW : rid - this.top;
      if (shift >= REPLAY_WINDOW) this.bits.fill(0);
      else for (let r = this.top + 1; r < rid; r++) this.clear(r);
      this.top = rid;
    } else if (rid <= this.top - REPLAY_WINDOW) {
      return;
    }
    const i = rid % REPLAY_WINDOW;
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }

  private has(rid: number): boolean {
    const i = rid % REPLAY_WINDOW;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  private clear(rid: number): void {
    const i = rid % REPLAY_WINDOW;
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }
}

/** One window per sender (`ip:port`), at most MAX_SENDERS of them. */
export class ReplayGuard {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxSenders = MAX_SENDERS) {}

  check(sender: string, rid: number): Freshness {
    return this.windows.get(sender)?.check(rid) ?? 'new';
  }

  /** The request `rid` of `sender` was taken: later copies are duplicates, older ids refused. */
  mark(sender: string, rid: number): void {
    let w = this.windows.get(sender);
    if (w) this.windows.delete(sender);
    else {
      if (this.windows.size >= this.maxSenders) this.windows.delete(this.windows.keys().next().value as string);
      w = new Window();
    }
    this.windows.set(sender, w); // most recently heard last
    w.mark(rid);
  }

  /** Forget every sender (a new DHT secret: nothing older can authenticate any more). */
  clear(): void {
    this.windows.clear();
  }

  get senders(): number {
    return this.windows.size;
  }
}
