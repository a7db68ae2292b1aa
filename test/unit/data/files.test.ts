// The data files of this test run, read back: the course files when the run has them (their
// known first row and the SPEC's query ids), else the synthetic files of the same shape the run
// wrote (test/helpers/test-data.ts), which must come back exactly as generated.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, parseStormCsv, parseWithLibrary } from '../../../src/data/csv.js';
import { eventIdOf, type StormRecord } from '../../../src/data/record.js';
import { DATA_DIR as dataDir, DATA_LABEL, TEST_DATA } from '../../helpers/data.js';
import { syntheticRecords } from '../../helpers/test-data.js';

const ROW_A = ['10096222', 'OKLAHOMA', '1950', 'April', 'Tornado', 'C', 'WASHITA', '0', '0', '0', '0', '250K', '0', 'F3'];

describe(`the test data files (${DATA_LABEL})`, () => {
  it('1950 has 223 records of 14 fields', async () => {
    const ds = await loadDataset(dataDir, 1950);
    expect(ds.records).toHaveLength(223);
    expect(ds.year).toBe(1950);
    expect(ds.source).toBe(path.join(dataDir, 'details-1950.csv'));
    expect(ds.records[0]).toEqual(TEST_DATA.course ? ROW_A : syntheticRecords(1950)[0]);
    for (const r of ds.records) expect(r).toHaveLength(14);
    if (!TEST_DATA.course) expect(ds.records).toEqual(syntheticRecords(1950));
  });

  it('1996 has 48534 distinct events; on the course file, 5536849 as the SPEC shows it', async () => {
    const ds = await loadDataset(dataDir, 1996);
    expect(ds.records).toHaveLength(48_534);
    expect(new Set(ds.records.map(eventIdOf)).size).toBe(48_534);
    if (!TEST_DATA.course) {
      expect(ds.records).toEqual(syntheticRecords(1996));
      return;
    }
    const r = ds.records.find((x) => eventIdOf(x) === 5536849) as StormRecord;
    expect(r).toBeDefined();
    expect(r).toEqual(['5536849', 'ALABAMA', '1996', 'Unknown', 'Tornado', 'C', 'SHELBY', '0', '0', '0', '0', '10K', '1K', '']);
    expect(ds.records.some((x) => eventIdOf(x) === 5539287)).toBe(true);
    expect(ds.records.some((x) => eventIdOf(x) === 2402920)).toBe(false);
    expect(ds.records.some((x) => eventIdOf(x) === 55770111)).toBe(false);
  });

  it('fast path and csv-parse give identical records on both files', () => {
    for (const year of [1950, 1996]) {
      const text = fs.readFileSync(path.join(dataDir, `details-${year}.csv`), 'utf8');
      expect(text.includes('"')).toBe(false); // so parseStormCsv takes the fast path
      expect(parseStormCsv(text)).toEqual(parseWithLibrary(text));
    }
  });
});
