// Bad datagrams must be visible but must not flood the console: the first of a kind is printed,
// later ones within the interval are counted and reported in one line when the next is printed.

export class Complaints {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 1000, private readonly maxKinds = 256) {}

  /** Kinds remembered (bounded by maxKinds): for the soak test's footprint. */
  get kinds(): number {
    return this.last.size;
  }

  /** The line to print now, or null if this complaint is being counted instead. */
  note(now: number, kind: string, text: string): string | null {
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return null;
    }
    if (!seen && this.last.size >= this.maxKinds) this.last.clear();
    const extra = seen && seen.suppressed > 0 ? ` (and ${seen.suppressed} more like it since the last report)` : '';
    this.last.set(kind, { at: now, suppressed: 0 });
    return text + extra;
  }
}
