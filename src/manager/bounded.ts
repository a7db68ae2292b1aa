// A cache bounded in entries and in bytes: past either bound the oldest entries go first (a
// retransmission comes within seconds, so age is what matters). O(1) per operation amortised.

export class BoundedCache<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private held = 0;

  constructor(private readonly maxEntries: number, private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Keep `value` (of `bytes` bytes) under `key`; the newest entry stays even if alone it is over the byte bound. */
  set(key: string, value: V, bytes: number): void {
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.held -= old.bytes;
    }
    this.map.set(key, { value, bytes });
    this.held += bytes;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxEntries && this.held <= this.maxBytes) break;
      if (k === key) break;
      this.map.delete(k);
      this.held -= e.bytes;
    }
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.map.size;
  }
}
