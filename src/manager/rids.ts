// Which request ids the manager takes from a registered peer (PROTOCOL §8): ever higher ones, as a
// replay must never act twice; but a query-dht not strictly in arrival order, since a peer may
// have several out at once (src/peer/query-pool.ts) and the network may reorder them. As
// WireGuard's window does, the ids taken above a floor are remembered; one at or below the floor,
// or one already taken, is refused (an exact retransmission was answered from the answer cache
// before this is asked). The window is kept beside the peer's entry, not in it, so the durable
// state still saves only the highest id: a manager started again takes nothing at or below it.

/** Ids remembered above the floor per peer; the oldest taken becomes the floor when a new one comes. */
export const RID_WINDOW = 128;

interface Taken { floor: number; ids: number[] }

export class RequestIds {
  private readonly windows = new WeakMap<object, Taken>();

  /**
   * Whether `rid` may be taken from the peer whose highest id so far is `entry.lastRid`. Only a
   * query-dht (`late`: it changes nothing) is taken below the highest id: a command that changes
   * the DHT, sent and never taken (every try lost), must not act when a copy is replayed later.
   */
  fresh(entry: { lastRid: number }, rid: number, late: boolean): boolean {
    if (rid > entry.lastRid) return true;
    if (!late) return false;
    const w = this.windows.get(entry);
    return w !== undefined && rid > w.floor && !w.ids.includes(rid);
  }

  /** `rid` was taken: remember it, move the highest id, and keep the window bounded. */
  take(entry: { lastRid: number }, rid: number): void {
    let w = this.windows.get(entry);
    if (!w) {
      // Nothing known below the highest id (a new registration, a restored state): all refused.
      w = { floor: entry.lastRid, ids: [] };
      this.windows.set(entry, w);
    }
    if (rid > entry.lastRid) entry.lastRid = rid;
    w.ids.push(rid);
    // The oldest taken goes: ids are taken nearly in order, so it is about the lowest, and no id
    // still on its way is older than the 128 taken after it.
    if (w.ids.length > RID_WINDOW) w.floor = Math.max(w.floor, w.ids.shift() ?? w.floor);
  }
}
