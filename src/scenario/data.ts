// Which dataset a scenario runs on. The product never hard-codes a data directory; the
// scenario follows the data-directory rule of every program and, failing it, makes a synthetic
// dataset and says so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDatasetFile } from '../data/csv.js';
import { demoEventIds, generateSynthetic, toCsv } from '../data/synthetic.js';
import { eventIdOf, type StormRecord } from '../data/record.js';
import { resolveDataDir } from '../data/dirs.js';
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
 * The directory of the one rule (DATA_DIR_RULE in src/data/dirs.ts). A directory that was asked
 * for must have the year (DataError otherwise: a typo must not turn into made-up data); a
 * default directory without it gives a synthetic dataset of `syntheticCount` records in .tmp/,
 * announced loudly.
 */
export function chooseData(year: number, syntheticCount: number, explicit?: string, log: (line: string) => void = () => {}): ScenarioData {
  const choice = resolveDataDir(explicit);
  const asked = choice.from === '--data-dir' || choice.from === '$DHT_DATA_DIR';
  if (asked || findDatasetFile(choice.dir, year) !== null) return load(choice.dir, year);
  const dir = join(repoRoot(), '.tmp', 'synthetic-data');
  mkdirSync(dir, { recursive: true });
  const records = generateSynthetic(year, syntheticCount, 1);
  writeFileSync(join(dir, `details-${year}.csv`), toCsv(records));
  log('#'.repeat(78));
  log(`# using a SYNTHETIC dataset of ${records.length} records in ${dir}`);
  log(`# (no details-${year}.csv in ${choice.dir}; give the course data with --data-dir DIR or $DHT_DATA_DIR)`);
  log('# counts and query answers below are for made-up events, not the NOAA data');
  log('#'.repeat(78));
  return { dir, year, records, synthetic: true, queryIds: queryIdsFor(records) };
}

/**
 * The course's four ids when the data has the course's two present ones (the real 1996 file);
 * otherwise two present and two absent ids of this dataset, in the same order, so that a run on
 * other data (synthetic, another year) still exercises a hit and a miss each time.
 */
export function queryIdsFor(records: StormRecord[]): [number, number, number, number] {
  const ids = new Set(records.map(eventIdOf));
  const [p1, a1, p2, a2] = COURSE_QUERY_IDS;
  if (ids.has(p1) && ids.has(p2) && !ids.has(a1) && !ids.has(a2)) return [...COURSE_QUERY_IDS];
  const demo = demoEventIds(records);
  return [demo.present[0], demo.absent[0], demo.present[1], demo.absent[1]];
}

/** Throws DataError (one line) if the directory has no readable file for the year. */
function load(dir: string, year: number): ScenarioData {
  const records = loadDatasetSync(dir, year).records;
  return { dir, year, records, synthetic: false, queryIds: queryIdsFor(records) };
}
