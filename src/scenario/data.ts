// Which dataset a scenario runs on. The product never hard-codes a data directory; the
// scenario looks in the usual places and, failing those, makes a synthetic one and says so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findDatasetFile } from '../data/csv.js';
import { demoEventIds, generateSynthetic, toCsv } from '../data/synthetic.js';
import type { StormRecord } from '../data/record.js';
import { loadDatasetSync } from '../data/loader.js';
import { repoRoot } from './system.js';

/** The course's query ids for 1996 (SPEC §6): found, not found, found, not found. */
export const COURSE_QUERY_IDS = [5536849, 2402920, 5539287, 55770111] as const;

export interface ScenarioData {
  dir: string;
  year: number;
  records: StormRecord[];
  synthetic: boolean;
  /** Four ids to query: two present, two absent, in the course's order. */
  queryIds: [number, number, number, number];
}

/**
 * --data-dir, else $DHT_DATA_DIR, else ./data if it has the year, else ../shared/data beside the
 * checkout if it has it, else a synthetic dataset of `syntheticCount` records in .tmp/.
 */
export function chooseData(year: number, syntheticCount: number, explicit?: string, log: (line: string) => void = () => {}): ScenarioData {
  const given = explicit ?? process.env['DHT_DATA_DIR'];
  if (given !== undefined) return load(resolve(given), year);
  for (const dir of [resolve('data'), join(repoRoot(), '..', 'shared', 'data')]) {
    if (findDatasetFile(dir, year) !== null) return load(dir, year);
  }
  const dir = join(repoRoot(), '.tmp', 'synthetic-data');
  mkdirSync(dir, { recursive: true });
  const records = generateSynthetic(year, syntheticCount, 1);
  writeFileSync(join(dir, `details-${year}.csv`), toCsv(records));
  log('#'.repeat(78));
  log(`# using a SYNTHETIC dataset of ${records.length} records in ${dir} (no details-${year}.csv found)`);
  log('# counts and query answers below are for made-up events, not the NOAA data');
  log('#'.repeat(78));
  const demo = demoEventIds(records);
  return { dir, year, records, synthetic: true, queryIds: [demo.present[0], demo.absent[0], demo.present[1], demo.absent[1]] };
}

/** Throws DataError (one line) if the directory has no readable file for the year. */
function load(dir: string, year: number): ScenarioData {
  const records = loadDatasetSync(dir, year).records;
  return { dir, year, records, synthetic: false, queryIds: [...COURSE_QUERY_IDS] };
}
