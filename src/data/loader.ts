// Synchronous dataset loading for the peer process. The peer core is a synchronous state
// machine that asks for a year's records in the middle of handling a response, so the shell
// answers from disk at once; a year's file is read once per process and then kept.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Dataset } from './record.js';
import { DataError, checkDatasetReadable, parseStormCsv } from './csv.js';

function reason(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

/** The year's records from dir (gunzipped if compressed). Throws DataError with a one-line message. */
export function loadDatasetSync(dir: string, year: number): Dataset {
  const file = checkDatasetReadable(dir, year);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${reason(err)})`);
  }
  // Decided by content, not by name: a renamed .gz and a pre-decompressed "x.csv.gz" both work.
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(`data file ${file} is not a valid gzip file (${reason(err)})`);
    }
  }
  try {
    return { year, records: parseStormCsv(bytes.toString('utf8'), file), source: file };
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`data file ${file} could not be parsed (${reason(err)})`);
  }
}

/** One data directory's years, each read at most once; failures are not kept, so a fixed file is retried. */
export class DatasetCache {
  private readonly years = new Map<number, Dataset>();

  constructor(readonly dir: string) {}

  /** null if the year's file is there and readable, else a one-line explanation. */
  check(year: number): string | null {
    if (this.years.has(year)) return null;
    try {
      checkDatasetReadable(this.dir, year);
      return null;
    } catch (err) {
      return reason(err);
    }
  }

  /** The year's records, or a one-line explanation. */
  load(year: number): Dataset | string {
    const cached = this.years.get(year);
    if (cached) return cached;
    try {
      const data = loadDatasetSync(this.dir, year);
      this.years.set(year, data);
      return data;
    } catch (err) {
      return err instanceof DataError ? err.message : reason(err);
    }
  }
}
