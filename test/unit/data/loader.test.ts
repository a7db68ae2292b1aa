import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetCache, loadDatasetSync } from '../../../src/data/loader.js';
import { DataError } from '../../../src/data/csv.js';
import { generateSynthetic, toCsv } from '../../../src/data/synthetic.js';

describe('loadDatasetSync', () => {
  const records = generateSynthetic(1977, 50, 3);

  it('reads a plain and a gzipped file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringdht-loader-'));
    writeFileSync(join(dir, 'details-1977.csv'), toCsv(records));
    writeFileSync(join(dir, 'details-1978.csv.gz'), gzipSync(toCsv(generateSynthetic(1978, 20, 3))));
    expect(loadDatasetSync(dir, 1977).records).toEqual(records);
    expect(loadDatasetSync(dir, 1978).records).toHaveLength(20);
  });

  it('throws a one-line DataError for a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringdht-loader-'));
    expect(() => loadDatasetSync(dir, 1990)).toThrow(DataError);
    expect(() => loadDatasetSync(dir, 1990)).toThrow(/^no data file for 1990 in /);
  });

  it('caches a year once read, and reports problems as one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringdht-loader-'));
    const cache = new DatasetCache(dir);
    expect(cache.check(1977)).toMatch(/^no data file for 1977/);
    expect(cache.load(1977)).toMatch(/^no data file for 1977/);
    writeFileSync(join(dir, 'details-1977.csv'), toCsv(records));
    expect(cache.check(1977)).toBeNull();
    const first = cache.load(1977);
    expect(typeof first).not.toBe('string');
    expect(cache.load(1977)).toBe(first);
  });
});
