// A node's local hash table: position → bucket of records. Positions collide (1950: 50 of 223
// records land on an occupied position), so a position holds a list and nothing is overwritten.
import { eventIdOf, type StormRecord } from '../data/record.js';

export class LocalTable {
  private readonly buckets = new Map<number, StormRecord[]>();
  private size = 0;

  add(pos: number, rec: StormRecord): void {
    const bucket = this.buckets.get(pos);
    if (bucket) bucket.push(rec);
    else this.buckets.set(pos, [rec]);
    this.size += 1;
  }

  find(pos: number, eventId: number): StormRecord | undefined {
    return this.buckets.get(pos)?.find((r) => eventIdOf(r) === eventId);
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }

  get count(): number {
    return this.size;
  }

  /** Every (position, record) held, for invariant checks in tests and the simulation. */
  *entries(): Generator<[number, StormRecord]> {
    for (const [pos, bucket] of this.buckets) for (const r of bucket) yield [pos, r];
  }
}
