// A node's local hash table: position → the record (as a CSV line, see data/line.ts) or, where
// positions collide (1950: 50 of 223 records land on an occupied position), a list of them, so
// nothing is overwritten. One line per position needs no array: the common case allocates nothing.
import { eventIdOfLine } from '../data/line.js';

export class LocalTable {
  private readonly buckets = new Map<number, string | string[]>();
  private size = 0;

  add(pos: number, line: string): void {
    const bucket = this.buckets.get(pos);
    if (bucket === undefined) this.buckets.set(pos, line);
    else if (typeof bucket === 'string') this.buckets.set(pos, [bucket, line]);
    else bucket.push(line);
    this.size += 1;
  }

  find(pos: number, eventId: number): string | undefined {
    const bucket = this.buckets.get(pos);
    if (bucket === undefined) return undefined;
    if (typeof bucket === 'string') return eventIdOfLine(bucket) === eventId ? bucket : undefined;
    return bucket.find((l) => eventIdOfLine(l) === eventId);
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }

  get count(): number {
    return this.size;
  }

  /** Every (position, record) held, for invariant checks in tests and the simulation. */
  *entries(): Generator<[number, string]> {
    for (const [pos, bucket] of this.buckets) {
      if (typeof bucket === 'string') yield [pos, bucket];
      else for (const r of bucket) yield [pos, r];
    }
  }
}
