/**
 * The hash of SPEC §4: s = first prime > 2ℓ, pos = event_id mod s, id = pos mod n.
 *
 * Every member computes these independently (the leader to place records, any node to
 * route a query), so they must be pure and exact: event ids are safe integers, and `%`
 * on safe integers is exact in IEEE doubles, so no BigInt is needed.
 */

/** Trial division by 6k±1: table sizes are at most a few million, so this is instant. */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n < 4) return true; // 2 and 3
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}

/** Smallest prime strictly greater than x (x need not be an integer). */
export function firstPrimeAbove(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`firstPrimeAbove needs a finite number, got ${x}`);
  if (x < 2) return 2;
  let candidate = Math.floor(x) + 1;
  // Prime gaps below 2^53 are under 1,600, so this loop is short; the bound only guards
  // against running past the range where integers are exact.
  while (!isPrime(candidate)) {
    candidate += 1;
    if (!Number.isSafeInteger(candidate)) throw new RangeError(`no safe-integer prime above ${x}`);
  }
  return candidate;
}

/** s for a dataset of ℓ records: the first prime strictly greater than 2ℓ. */
export function tableSize(recordCount: number): number {
  if (!Number.isSafeInteger(recordCount) || recordCount < 0) {
    throw new RangeError(`record count must be a non-negative integer, got ${recordCount}`);
  }
  return firstPrimeAbove(2 * recordCount);
}

/** Position of an event in the (virtual) global table of size s. */
export function positionOf(eventId: number, s: number): number {
  // A wrong s (0, NaN) would silently route every record to NaN; fail loudly instead.
  if (!Number.isSafeInteger(s) || s < 1) throw new RangeError(`table size must be a positive integer, got ${s}`);
  return eventId % s;
}

/** Node identifier (0 … n−1) that holds position pos. */
export function nodeOf(pos: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`ring size must be a positive integer, got ${n}`);
  return pos % n;
}

/** How many of the events each node 0 … n−1 stores; what the leader prints after setup. */
export function countsPerNode(eventIds: number[], s: number, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const id of eventIds) counts[nodeOf(positionOf(id, s), n)] += 1;
  return counts;
}
