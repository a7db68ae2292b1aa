// A node's local hash table: position → bucket of records (as CSV lines, see data/line.ts). Positions collide (1950: 50 of 223
// records land on an occupied position), so a position holds a list and nothing is overwritten.
import { eventIdOfLine } from '../data/line.js';

export class LocalTable {
  private readonly buckets = new Map<number, string[]>();
  private size = 0;

  add(pos: number, line: string): void {
    const bucket = this.buckets.get(pos);
    if (bucket) bucket.push(line);
    else this.buckets.set(pos, [line]);
    this.size += 1;
  }

  find(pos: number, eventId: number): string | undefined {
    return this.buckets.get(pos)?.find((l) => eventIdOfLine(l) === eventId);
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
    for (const [pos, bucket] of this.buckets) for (const r of bucket) yield [pos, r];
  }
}
