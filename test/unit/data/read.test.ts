// Hostile or useless data files: a gzip bomb is refused at the inflation bound (it once killed a
// leader with a V8 abort), an oversized file before it is read, and an empty or header-only file
// with a sentence instead of a DHT of 0 records.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetCache, loadDatasetSync, loadLinesSync } from '../../../src/data/loader.js';
import { DataError, checkDatasetReadable, loadDataset } from '../../../src/data/csv.js';
import { MAX_DATA_BYTES, readDataBytes, readDataBytesSync, readDataTextSync } from '../../../src/data/read.js';
import { generateSynthetic, toCsv } from '../../../src/data/synthetic.js';

const MIB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'ringdht-read-'));
function file(name: string, bytes: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
/** Many gzip members of 1 MiB of zeros each: a few KB on disk, `mib` MiB once inflated. */
function bomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(MIB));
  return Buffer.concat(Array.from({ length: mib }, () => member));
}
function oneLine(err: unknown): string {
  expect(err).toBeInstanceOf(DataError);
  const text = (err as Error).message;
  expect(text).not.toContain('\n');
  return text;
}
const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('no error');
};

describe('data files: inflation bound', () => {
  it(`the default bound is ${MAX_DATA_BYTES / MIB} MiB`, () => {
    expect(MAX_DATA_BYTES).toBe(256 * MIB);
  });

  it('a gzip file inflating beyond the bound is refused with one line, sync and async', async () => {
    const path = file('bomb.csv.gz', bomb(8));
    const text = `data file ${path} inflates to more than 4 MiB (the limit for a data file); refused`;
    expect(oneLine(thrown(() => readDataBytesSync(path, 4 * MIB)))).toBe(text);
    expect(oneLine(await readDataBytes(path, 4 * MIB).catch((e: unknown) => e))).toBe(text);
    expect(readDataBytesSync(path, 8 * MIB)).toHaveLength(8 * MIB); // at the bound exactly: fine
  });

  it('a file larger than the bound is refused before it is read', async () => {
    const path = file('big.csv', Buffer.alloc(2 * MIB, 0x41));
    const text = `data file ${path} is larger than 1 MiB (the limit for a data file)`;
    expect(oneLine(thrown(() => readDataBytesSync(path, MIB)))).toBe(text);
    expect(oneLine(await readDataBytes(path, MIB).catch((e: unknown) => e))).toBe(text);
  });

  it('a gzip file with garbage after its header is still "not a valid gzip file"', () => {
    const path = file('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(oneLine(thrown(() => readDataBytesSync(path)))).toMatch(/is not a valid gzip file \(/);
  });
});

describe('data files: text read in pieces', () => {
  // Read in pieces of 120 KB (so no buffer of the file's size is malloc'd): the text must be the
  // file's, whatever falls on a piece's edge.
  const KB = 1024;
  it('the same text as decoding the whole file, with multibyte characters across every piece edge', () => {
    const texts = [
      'a'.repeat(300 * KB),
      'a'.repeat(120 * KB - 1) + 'é€😀' + 'b'.repeat(130 * KB) + 'ü',
      'ascii first,' + 'x'.repeat(240 * KB - 13) + '€' + 'y'.repeat(10 * KB),
      'bad \xff bytes',
    ];
    texts.forEach((t, i) => {
      const path = file(`pieces-${i}.csv`, Buffer.from(t, 'utf8'));
      expect(readDataTextSync(path)).toBe(readFileSync(path).toString('utf8'));
    });
    const broken = file('broken.csv', Buffer.concat([Buffer.alloc(120 * KB - 1, 0x61), Buffer.from([0xe2, 0x82]), Buffer.from('z')]));
    expect(readDataTextSync(broken)).toBe(readFileSync(broken).toString('utf8'));
  });

  it('a gzipped file is inflated, a file over the bound refused', () => {
    const path = file('pieces.csv.gz', gzipSync('é'.repeat(100 * KB)));
    expect(readDataTextSync(path)).toBe('é'.repeat(100 * KB));
    const big = file('pieces-big.csv', Buffer.alloc(2 * MIB, 0x41));
    expect(oneLine(thrown(() => readDataTextSync(big, MIB)))).toBe(`data file ${big} is larger than 1 MiB (the limit for a data file)`);
  });
});

describe('data files: no records', () => {
  const header = toCsv(generateSynthetic(1961, 1)).split('\n')[0]! + '\n';

  it('an empty file is refused already when checked, before any setup is asked for', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ringdht-read-'));
    writeFileSync(join(d, 'details-1960.csv'), '');
    const path = join(d, 'details-1960.csv');
    expect(oneLine(thrown(() => checkDatasetReadable(d, 1960)))).toBe(`data file ${path} is empty`);
    expect(new DatasetCache(d).check(1960)).toBe(`data file ${path} is empty`);
    expect(new DatasetCache(d).load(1960)).toBe(`data file ${path} is empty`);
    expect(oneLine(await loadDataset(d, 1960).catch((e: unknown) => e))).toBe(`data file ${path} is empty`);
  });

  it('a header-only file, plain or gzipped, is refused by every loader', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ringdht-read-'));
    writeFileSync(join(d, 'details-1961.csv'), header);
    writeFileSync(join(d, 'details-1962.csv.gz'), gzipSync(header + '\r\n\n'));
    for (const [year, name] of [[1961, 'details-1961.csv'], [1962, 'details-1962.csv.gz']] as const) {
      const text = `data file ${join(d, name)} has a header but no records`;
      expect(oneLine(thrown(() => loadLinesSync(d, year)))).toBe(text);
      expect(oneLine(thrown(() => loadDatasetSync(d, year)))).toBe(text);
      expect(oneLine(await loadDataset(d, year).catch((e: unknown) => e))).toBe(text);
      expect(new DatasetCache(d).load(year)).toBe(text);
    }
  });

  it('one record is enough', () => {
    const d = mkdtempSync(join(tmpdir(), 'ringdht-read-'));
    writeFileSync(join(d, 'details-1963.csv'), toCsv(generateSynthetic(1963, 1)));
    expect(loadLinesSync(d, 1963).lines).toHaveLength(1);
  });
});
