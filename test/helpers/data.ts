// The test data chosen by the global setup (test/helpers/global-setup.ts), and what the tests
// expect of it: on the course files, the SPEC's figures; on synthetic data, the same quantities
// computed from the generated records with src/data/hash.ts.
import { inject } from 'vitest';
import { countsPerNode, tableSize } from '../../src/data/hash.js';
import { loadDatasetSync } from '../../src/data/loader.js';
import { eventIdOf, type StormRecord } from '../../src/data/record.js';
import { demoEventIds } from '../../src/data/synthetic.js';
import type { TestDataInfo, TestYear } from './test-data.js';

import type {} from './global-setup.js'; // the ProvidedContext type of inject('testData')

export const TEST_DATA: TestDataInfo = inject('testData');
export const DATA_DIR = TEST_DATA.dir;
/** For test names: which data a result is about. */
export const DATA_LABEL = TEST_DATA.course ? 'course data' : 'synthetic data';

/** SPEC §6 reference counts per node, for the course files only. */
const SPEC_COUNTS: Record<string, number[]> = {
  '1950/3': [72, 75, 76],
  '1996/5': [9711, 9691, 9714, 9704, 9714],
};
/** SPEC §6 query ids for 1996: found, not found, found, not found. */
const SPEC_QUERY_IDS: [number, number, number, number] = [5536849, 2402920, 5539287, 55770111];

const cache = new Map<TestYear, StormRecord[]>();

/** The year's records as the test data has them (read once per test file). */
export function records(year: TestYear): StormRecord[] {
  let r = cache.get(year);
  if (!r) {
    r = loadDatasetSync(DATA_DIR, year).records;
    cache.set(year, r);
  }
  return r;
}

export function recordById(year: TestYear, id: number): StormRecord | undefined {
  return records(year).find((r) => eventIdOf(r) === id);
}

/** Records per node 0 … n−1 that a correct DHT stores: the SPEC's figures where it gives them (course data), else the hash's. */
export function expectedCounts(year: TestYear, n: number): number[] {
  const spec = SPEC_COUNTS[`${year}/${n}`];
  if (TEST_DATA.course && spec) return spec;
  const ids = records(year).map(eventIdOf);
  return countsPerNode(ids, tableSize(ids.length), n);
}

/** The four 1996 query ids in the scenario's order: present, absent, present, absent. */
export function queryIds(): [number, number, number, number] {
  if (TEST_DATA.course) return [...SPEC_QUERY_IDS];
  const demo = demoEventIds(records(1996));
  return [demo.present[0], demo.absent[0], demo.present[1], demo.absent[1]];
}

/** The two present and the two absent query ids. */
export function presentAndAbsent(): { present: [number, number]; absent: [number, number] } {
  const [p1, a1, p2, a2] = queryIds();
  return { present: [p1, p2], absent: [a1, a2] };
}
