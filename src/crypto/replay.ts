// Replay windows (WireGuard's, after RFC 6479): per sender id, the highest counter seen and a
// bitmap of the WINDOW_BITS counters below it. A counter above the top is new; one inside the
// window is new unless its bit is set; one below the window is refused, since nothing is known
// about it any more. Constant memory per sender, constant time per datagram.

export const WINDOW_BITS = 2048;
const WORDS = WINDOW_BITS / 32;
/**
 * Counters at least this far behind the top are refused. One word less than the bitmap: the
 * word the top is in is shared with counters above it (RFC 6479's trick for O(1) slides).
 */
export const WINDOW_REACH = WINDOW_BITS - 32;

export type Verdict = 'new' | 'replayed' | 'too-old';

export class ReplayWindow {
  private top = -1;
  private readonly bits = new Uint32Array(WORDS);

  /** Whether counter c would be accepted; records nothing (the datagram is not authenticated yet). */
  check(c: number): Verdict {
    if (c > this.top) return 'new';
    if (this.top - c >= WINDOW_REACH) return 'too-old';
    return (this.bits[(c >>> 5) % WORDS]! & (1 << (c & 31))) !== 0 ? 'replayed' : 'new';
  }

  /** Record counter c, already checked and authenticated. */
  record(c: number): void {
    if (c > this.top) this.slide(c);
    this.bits[(c >>> 5) % WORDS]! |= 1 << (c & 31);
  }

  /** Move the top to c, clearing the words after the old top's word up to c's (a new sender's are all clear). */
  private slide(c: number): void {
    if (this.top >= 0) {
      const from = this.top >>> 5;
      const clear = Math.min((c >>> 5) - from, WORDS);
      for (let w = 1; w <= clear; w++) this.bits[(from + w) % WORDS] = 0;
    }
    this.top = c;
  }
}

/**
 * The windows of the senders heard from, at most `max` of them: the least recently heard is
 * forgotten first. Only authenticated datagrams create or refresh an entry, so a stranger
 * without the key cannot push a member's window out.
 */
export class SenderWindows {
  private readonly windows = new Map<string, ReplayWindow>();
  /** The most recently touched sender: the map's last entry. */
  private newest: string | undefined;

  constructor(private readonly max: number) {}

  get(sender: string): ReplayWindow | undefined {
    return this.windows.get(sender);
  }

  /** The sender's window, marked as the most recently heard; created (evicting the oldest) if new. */
  touch(sender: string): ReplayWindow {
    let w = this.windows.get(sender);
    if (w) this.windows.delete(sender);
    else {
      if (this.windows.size >= this.max) this.windows.delete(this.windows.keys().next().value as string);
      w = new ReplayWindow();
    }
    this.windows.set(sender, w);
    this.newest = sender;
    return w;
  }

  /** Whether `sender` is already the most recently heard (touching it again would change nothing). */
  isNewest(sender: string): boolean {
    return this.newest === sender && this.windows.has(sender);
  }

  get size(): number {
    return this.windows.size;
  }
}
