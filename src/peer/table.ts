// A node's local hash table: position → the record (as a CSV line, see data/line.ts) or, where
// positions collide (1950: 50 of 223 records land on an occupied position), a list of them, so
// nothing is overwritten. One line per position needs no array: the common case allocates nothing.
// Beside it, when the ring keeps replicas (replicas.ts), one table per node whose copies this node
// keeps; clearing the table clears them too, so a copy never outlives the ring it was made for.
import { eventIdOfLine } from '../data/line.js';

export class LocalTable {
  private readonly buckets = new Map<number, string | string[]>();
  private size = 0;
  /** Copies of other nodes' records, by owner id (empty unless the ring's r > 1). */
  private readonly copies = new Map<number, LocalTable>();

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

  /** The copies of node `owner`'s records kept here (made empty on first use). */
  replica(owner: number): LocalTable {
    let t = this.copies.get(owner);
    if (t === undefined) this.copies.set(owner, (t = new LocalTable()));
    return t;
  }

  /** A copy of node `owner`'s record, if kept here. */
  findReplica(owner: number, pos: number, eventId: number): string | undefined {
    return this.copies.get(owner)?.find(pos, eventId);
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
    this.copies.clear();
  }

  /** Records of this node's own (the SPEC's count). */
  get count(): number {
    return this.size;
  }

  /** Copies of other nodes' records held here. */
  get replicaCount(): number {
    let c = 0;
    for (const t of this.copies.values()) c += t.count;
    return c;
  }

  /** The owners whose copies are held here, and their tables (for checks in tests and the simulation). */
  replicas(): ReadonlyMap<number, LocalTable> {
    return this.copies;
  }

  /** Every (position, record) held, for invariant checks in tests and the simulation. */
  *entries(): Generator<[number, string]> {
    for (const [pos, bucket] of this.buckets) {
      if (typeof bucket === 'string') yield [pos, bucket];
      else for (const r of bucket) yield [pos, r];
    }
  }
}
