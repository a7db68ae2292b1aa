import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isPrime, firstPrimeAbove, tableSize, positionOf, nodeOf, countsPerNode } from '../../../src/data/hash.js';
import { loadDataset } from '../../../src/data/csv.js';
import { eventIdOf } from '../../../src/data/record.js';

import { DATA_DIR as dataDir, DATA_LABEL, TEST_DATA } from '../../helpers/data.js';

/** Reference primality by plain trial division, independent of the 6k±1 implementation. */
function naiveIsPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d < n; d++) if (n % d === 0) return false;
  return true;
}

describe('isPrime', () => {
  it('knows the small primes', () => {
    const primes = [];
    for (let n = -5; n < 60; n++) if (isPrime(n)) primes.push(n);
    expect(primes).toEqual([2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]);
  });

  it('agrees with naive trial division up to 3000', () => {
    for (let n = 0; n <= 3000; n++) expect(isPrime(n), String(n)).toBe(naiveIsPrime(n));
  });

  it('rejects squares of primes and Carmichael numbers', () => {
    for (const n of [25, 49, 121, 169, 561, 1105, 1729, 97 * 97, 9_999_991 * 3]) expect(isPrime(n)).toBe(false);
  });

  it('handles larger primes and non-integers', () => {
    expect(isPrime(97_073)).toBe(true); // s for 1996
    expect(isPrime(2_147_483_647)).toBe(true); // 2^31 - 1
    expect(isPrime(2.5)).toBe(false);
    expect(isPrime(Number.NaN)).toBe(false);
    expect(isPrime(Infinity)).toBe(false);
  });
});

describe('firstPrimeAbove', () => {
  it('is strictly greater', () => {
    expect(firstPrimeAbove(2)).toBe(3);
    expect(firstPrimeAbove(3)).toBe(5);
    expect(firstPrimeAbove(13)).toBe(17);
    expect(firstPrimeAbove(446)).toBe(449);
    expect(firstPrimeAbove(449)).toBe(457);
  });

  it('returns 2 for anything below 2', () => {
    expect(firstPrimeAbove(-10)).toBe(2);
    expect(firstPrimeAbove(0)).toBe(2);
    expect(firstPrimeAbove(1)).toBe(2);
    expect(firstPrimeAbove(1.5)).toBe(2);
  });

  it('handles non-integers', () => {
    expect(firstPrimeAbove(2.5)).toBe(3);
    expect(firstPrimeAbove(6.9)).toBe(7);
  });

  it('of a prime p returns the next prime', () => {
    const primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];
    for (let i = 0; i + 1 < primes.length; i++) expect(firstPrimeAbove(primes[i])).toBe(primes[i + 1]);
  });

  it('rejects non-finite input', () => {
    expect(() => firstPrimeAbove(Number.NaN)).toThrow(RangeError);
    expect(() => firstPrimeAbove(Infinity)).toThrow(RangeError);
  });

  it('property: result is prime, greater than x, and no prime lies between', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 5_000_000 }), (x) => {
        const p = firstPrimeAbove(x);
        expect(isPrime(p)).toBe(true);
        expect(p).toBeGreaterThan(x);
        for (let k = Math.max(Math.floor(x) + 1, 0); k < p; k++) expect(isPrime(k)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('tableSize, positionOf, nodeOf', () => {
  it('s is the first prime above 2ℓ', () => {
    expect(tableSize(223)).toBe(449);
    expect(tableSize(48_534)).toBe(97_073);
    expect(tableSize(0)).toBe(2);
    expect(tableSize(1)).toBe(3);
  });

  it('rejects a bad record count', () => {
    expect(() => tableSize(-1)).toThrow(RangeError);
    expect(() => tableSize(1.5)).toThrow(RangeError);
  });

  it('pos = event_id mod s, id = pos mod n', () => {
    expect(positionOf(10096222, 449)).toBe(10096222 % 449);
    expect(nodeOf(positionOf(10096222, 449), 3)).toBe((10096222 % 449) % 3);
    expect(positionOf(0, 449)).toBe(0);
    expect(positionOf(Number.MAX_SAFE_INTEGER, 97_073)).toBe(Number(BigInt(Number.MAX_SAFE_INTEGER) % 97_073n));
  });

  it('rejects a bad s or n instead of returning NaN', () => {
    expect(() => positionOf(5, 0)).toThrow(RangeError);
    expect(() => nodeOf(5, 0)).toThrow(RangeError);
    expect(() => positionOf(5, Number.NaN)).toThrow(RangeError);
  });

  it('property: countsPerNode sums to ℓ and agrees with BigInt arithmetic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 10 }),
        (ids, n) => {
          const s = tableSize(ids.length);
          const counts = countsPerNode(ids, s, n);
          expect(counts.reduce((a, b) => a + b, 0)).toBe(ids.length);
          const expected = new Array(n).fill(0);
          for (const id of ids) expected[Number((BigInt(id) % BigInt(s)) % BigInt(n))]++;
          expect(counts).toEqual(expected);
        },
      ),
    );
  });
});

/** Per-node counts by BigInt arithmetic and a naive prime search: independent of hash.ts. */
function independentCounts(ids: number[], n: number): { s: number; counts: number[] } {
  let s = 2 * ids.length + 1;
  while (!naiveIsPrime(s)) s++;
  const counts = new Array<number>(n).fill(0);
  for (const id of ids) counts[Number((BigInt(id) % BigInt(s)) % BigInt(n))]++;
  return { s, counts };
}

// On the course files: the SPEC's figures. On synthetic data of the same size: the same table
// size, and counts that hash.ts must agree on with an independent computation.
describe(`counts per node of the test data (SPEC §4, ${DATA_LABEL})`, () => {
  it(TEST_DATA.course ? '1950: ℓ = 223, s = 449, n = 3 → 72, 75, 76; 50 records collide' : '1950: ℓ = 223, s = 449, n = 3 → the independent count', async () => {
    const { records } = await loadDataset(dataDir, 1950);
    const ids = records.map(eventIdOf);
    expect(ids.length).toBe(223);
    const s = tableSize(ids.length);
    expect(s).toBe(449);
    const counts = countsPerNode(ids, s, 3);
    expect(counts).toEqual(independentCounts(ids, 3).counts);
    if (!TEST_DATA.course) return;
    expect(counts).toEqual([72, 75, 76]);
    // Records that land on a position some earlier record already took: why buckets are needed.
    const occupied = new Set<number>();
    let collisions = 0;
    for (const id of ids) {
      const pos = positionOf(id, s);
      if (occupied.has(pos)) collisions++;
      occupied.add(pos);
    }
    expect(collisions).toBe(50);
  });

  it(TEST_DATA.course ? '1996: ℓ = 48534, n = 5 → 9711, 9691, 9714, 9704, 9714; n = 4 sums to ℓ' : '1996: ℓ = 48534, n = 5 and n = 4 → the independent counts', async () => {
    const { records } = await loadDataset(dataDir, 1996);
    const ids = records.map(eventIdOf);
    expect(ids.length).toBe(48_534);
    const s = tableSize(ids.length);
    expect(s).toBe(independentCounts(ids, 1).s);
    const five = countsPerNode(ids, s, 5);
    expect(five).toEqual(independentCounts(ids, 5).counts);
    if (TEST_DATA.course) expect(five).toEqual([9711, 9691, 9714, 9704, 9714]);
    const four = countsPerNode(ids, s, 4);
    expect(four).toEqual(independentCounts(ids, 4).counts);
    expect(four.reduce((a, b) => a + b, 0)).toBe(48_534);
  });
});
