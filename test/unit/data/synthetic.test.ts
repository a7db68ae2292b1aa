import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSynthetic, toCsv, demoEventIds } from '../../../src/data/synthetic.js';
import { parseStormCsv, loadDataset } from '../../../src/data/csv.js';
import { COLUMNS, eventIdOf, type StormRecord } from '../../../src/data/record.js';
import { tableSize, countsPerNode } from '../../../src/data/hash.js';

const MONTHS = new Set([
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
]);

function column(records: StormRecord[], name: (typeof COLUMNS)[number]): string[] {
  const i = COLUMNS.indexOf(name);
  return records.map((r) => r[i]);
}

describe('generateSynthetic', () => {
  it('is deterministic in (year, count, seed)', () => {
    expect(generateSynthetic(1996, 500, 7)).toEqual(generateSynthetic(1996, 500, 7));
    expect(generateSynthetic(1996, 500)).toEqual(generateSynthetic(1996, 500, 1));
    expect(generateSynthetic(1996, 500, 8)).not.toEqual(generateSynthetic(1996, 500, 7));
    expect(column(generateSynthetic(1997, 500, 7), 'event_id')).not.toEqual(column(generateSynthetic(1996, 500, 7), 'event_id'));
  });

  it('makes well-formed records with realistic fields', () => {
    const records = generateSynthetic(1996, 5000, 3);
    expect(records).toHaveLength(5000);
    // One boolean per rule, collected, so a failure names the record without 100k expect calls.
    const malformed = records.filter((r) => {
      const [id, state, year, month, type, czType, czName, inj1, inj2, d1, d2, prop, crops, scale] = r;
      const ok =
        r.length === COLUMNS.length &&
        r.every((f) => typeof f === 'string') &&
        /^[0-9]{7}$/.test(id) &&
        /^[A-Z][A-Z ]+$/.test(state) &&
        year === '1996' &&
        MONTHS.has(month) &&
        /^[A-Z][a-z]+( [A-Z][a-z]+)?$/.test(type) &&
        (czType === 'C' || czType === 'Z') &&
        czName.length > 0 &&
        [inj1, inj2, d1, d2].every((n) => /^(0|[1-9][0-9]*)$/.test(n)) &&
        /^[0-9]+(\.[0-9]+)?[KMB]$/.test(prop) &&
        /^(0|[0-9]+(\.[0-9]+)?[KMB])$/.test(crops) &&
        (type === 'Tornado' ? /^F[0-5]$/.test(scale) : scale === '');
      return !ok;
    });
    expect(malformed).toEqual([]);
    // Variety, not a constant column: several states, types, months and damage values.
    expect(new Set(column(records, 'state')).size).toBeGreaterThan(40);
    expect(new Set(column(records, 'event_type')).size).toBeGreaterThan(10);
    expect(new Set(column(records, 'month_name')).size).toBe(12);
    expect(new Set(column(records, 'damage_property')).size).toBeGreaterThan(10);
    expect(column(records, 'damage_property').filter((d) => d === '0K').length).toBeGreaterThan(2000);
  });

  it('follows NOAA history: tornadoes only before 1955, EF scale from 2007', () => {
    expect(new Set(column(generateSynthetic(1950, 300), 'event_type'))).toEqual(new Set(['Tornado']));
    const scales = column(generateSynthetic(2010, 3000), 'tor_f_scale').filter((s) => s !== '');
    expect(scales.length).toBeGreaterThan(0);
    for (const s of scales) expect(s).toMatch(/^EF[0-5]$/);
  });

  it('gives unique 7-digit event ids from 5,000,000 to 9,999,999, not in file order', () => {
    const ids = generateSynthetic(2001, 50_000, 9).map(eventIdOf);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(5_000_000);
    expect(Math.max(...ids)).toBeLessThanOrEqual(9_999_999);
    const sorted = [...ids].sort((a, b) => a - b);
    expect(ids).not.toEqual(sorted);
  });

  it('spreads like real data over the ring', () => {
    // Same ℓ as 1996: each of 5 nodes within 3% of ℓ/5, as for the real file.
    const ids = generateSynthetic(1996, 48_534, 5).map(eventIdOf);
    const counts = countsPerNode(ids, tableSize(ids.length), 5);
    for (const c of counts) expect(Math.abs(c - 48_534 / 5)).toBeLessThan(0.03 * (48_534 / 5));
  });

  it('handles zero records and rejects bad arguments', () => {
    expect(generateSynthetic(1996, 0)).toEqual([]);
    expect(generateSynthetic(1996, 1)).toHaveLength(1);
    expect(() => generateSynthetic(1996, -1)).toThrow(RangeError);
    expect(() => generateSynthetic(1996, 2.5)).toThrow(RangeError);
    expect(() => generateSynthetic(Number.NaN, 5)).toThrow(RangeError);
  });

  // Speed is the benchmark's business (npm run bench generates 1,000,000 records); here only
  // that a million come out, all with distinct ids.
  it('makes 1,000,000 records with unique event ids', () => {
    const records = generateSynthetic(2005, 1_000_000, 11);
    expect(records).toHaveLength(1_000_000);
    expect(new Set(records.map(eventIdOf)).size).toBe(1_000_000);
  });
});

describe('toCsv', () => {
  it('writes a header of COLUMNS and one LF line per record', () => {
    const records = generateSynthetic(1950, 3);
    const text = toCsv(records);
    const ls = text.split('\n');
    expect(ls[0]).toBe(COLUMNS.join(','));
    expect(ls).toHaveLength(5); // header, 3 records, '' after the final LF
    expect(ls[4]).toBe('');
    expect(text).not.toContain('\r');
    expect(ls[1]).toBe(records[0].join(','));
  });

  it('quotes only fields with a comma, quote or newline', () => {
    const r = ['1', 'A,B', '1996', 'say "hi"', 'x\ny', 'C', 'plain', '0', '0', '0', '0', '0K', '0', 'a\rb'];
    expect(toCsv([r]).split('\n').slice(1).join('\n')).toBe('1,"A,B",1996,"say ""hi""","x\ny",C,plain,0,0,0,0,0K,0,"a\rb"\n');
  });

  it('round-trips through parseStormCsv: synthetic records', () => {
    const records = generateSynthetic(1996, 2000, 4);
    expect(parseStormCsv(toCsv(records))).toEqual(records);
  });

  it('property: round-trips any fields through parseStormCsv', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\n', '\r', 'é'), maxLength: 6 });
    const record = fc.tuple(fc.nat(), fc.array(field, { minLength: 13, maxLength: 13 })).map(([id, rest]) => [String(id), ...rest]);
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        expect(parseStormCsv(toCsv(records))).toEqual(records);
      }),
    );
  });

  it('writes a file loadDataset reads back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringdht-synth-'));
    try {
      const records = generateSynthetic(2011, 1000);
      fs.writeFileSync(path.join(dir, 'details-2011.csv'), toCsv(records));
      const ds = await loadDataset(dir, 2011);
      expect(ds.records).toEqual(records);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demoEventIds', () => {
  it('gives two present and two absent ids', () => {
    const records = generateSynthetic(1996, 48_534);
    const ids = new Set(records.map(eventIdOf));
    const demo = demoEventIds(records);
    expect(demo).toEqual(demoEventIds(records));
    for (const id of demo.present) expect(ids.has(id)).toBe(true);
    for (const id of demo.absent) expect(ids.has(id)).toBe(false);
    expect(demo.present[0]).not.toBe(demo.present[1]);
    expect(demo.absent[0]).not.toBe(demo.absent[1]);
    for (const id of [...demo.present, ...demo.absent]) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
    console.log('demo ids for synthetic 1996 × 48534:', JSON.stringify(demo));
  });

  it('works on tiny and crowded datasets', () => {
    const one = generateSynthetic(1996, 1);
    const d1 = demoEventIds(one);
    expect(d1.present).toEqual([eventIdOf(one[0]), eventIdOf(one[0])]);
    expect(d1.absent[0]).not.toBe(eventIdOf(one[0]));
    // Consecutive ids 0..9: the near miss must walk past all of them.
    const crowded = Array.from({ length: 10 }, (_, i) => [String(i), ...new Array(13).fill('')]);
    const d2 = demoEventIds(crowded);
    expect(d2.absent[0]).toBe(10);
    expect(d2.absent[1]).not.toBe(10);
    expect(d2.absent[1]).toBeGreaterThanOrEqual(10);
    expect(() => demoEventIds([])).toThrow(RangeError);
  });
});
