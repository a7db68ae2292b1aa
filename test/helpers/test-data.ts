// Which data the test suite runs on. The course files (SPEC §6) when they are there; otherwise
// synthetic data of the same shape (same years, same record counts, so the same table sizes),
// so that a fresh clone's `npm test` checks the same behaviour, with expected counts and query
// ids computed from the generated records instead of quoted from the SPEC.
// No vitest import: the global setup (main process) uses this too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDatasetFile } from '../../src/data/csv.js';
import { checkoutRoot } from '../../src/data/dirs.js';
import { COURSE_RECORD_COUNTS, generateSynthetic, toCsv } from '../../src/data/synthetic.js';

export const TEST_YEARS = [1950, 1996] as const;
export type TestYear = (typeof TEST_YEARS)[number];

export interface TestDataInfo {
  dir: string;
  /** true: the course files; false: synthetic data generated for this run. */
  course: boolean;
  /** The one line the run prints about it. */
  summary: string;
}

const ENV = 'DHT_TEST_DATA_DIR';

function hasCourseFiles(dir: string): boolean {
  return TEST_YEARS.every((y) => findDatasetFile(dir, y) !== null);
}

/** Same (year, count, seed) as `npm start`'s synthetic fallback, so a failure reproduces there. */
export function syntheticRecords(year: TestYear): ReturnType<typeof generateSynthetic> {
  return generateSynthetic(year, COURSE_RECORD_COUNTS[year], 1);
}

/**
 * $DHT_TEST_DATA_DIR must hold the course files (a wrong path is an error, never a silent
 * fallback); unset, ../shared/data beside the checkout is used if it has them, else synthetic
 * files are written to a fresh temporary directory. `cleanup` removes what was written.
 */
export function prepareTestData(): { info: TestDataInfo; cleanup: () => void } {
  const fromEnv = process.env[ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!hasCourseFiles(fromEnv)) {
      throw new Error(`${ENV}=${fromEnv} has no details-1950.csv and details-1996.csv (.csv or .csv.gz); unset it to test on synthetic data`);
    }
    return { info: { dir: fromEnv, course: true, summary: `test data: course files in ${fromEnv} (from ${ENV})` }, cleanup: () => {} };
  }
  const beside = join(checkoutRoot(), '..', 'shared', 'data');
  if (hasCourseFiles(beside)) {
    return { info: { dir: beside, course: true, summary: `test data: course files in ${beside} (${ENV} overrides)` }, cleanup: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ringdht-test-data-'));
  for (const year of TEST_YEARS) writeFileSync(join(dir, `details-${year}.csv`), toCsv(syntheticRecords(year)));
  const summary = `test data: SYNTHETIC, course-shaped (${COURSE_RECORD_COUNTS[1950]} records for 1950, ` +
    `${COURSE_RECORD_COUNTS[1996]} for 1996) in ${dir}; no course files in ${beside}. ` +
    `Set ${ENV}=<dir with details-1950.csv and details-1996.csv> to check the SPEC's reference counts and query ids too`;
  return { info: { dir, course: false, summary }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
