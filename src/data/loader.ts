// Synchronous dataset loading for the peer process. The peer core is a synchronous state
// machine that asks for a year's records in the middle of handling a response, so the shell
// answers from disk at once; a year's file is read once per process and then kept.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Dataset, LineDataset } from './record.js';
import { DataError, checkDatasetReadable, parseStormCsv, parseStormLines } from './csv.js';

function reason(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

/** The text of the year's file in dir (gunzipped if compressed) and its path; DataError if unreadable. */
function readDataText(dir: string, year: number): { file: string; text: string } {
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
  return { file, text: bytes.toString('utf8') };
}

function parsed<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`data file ${file} could not be parsed (${reason(err)})`);
  }
}

/** The year's records from dir (gunzipped if compressed). Throws DataError with a one-line message. */
export function loadDatasetSync(dir: string, year: number): Dataset {
  const { file, text } = readDataText(dir, year);
  return { year, records: parsed(file, () => parseStormCsv(text, file)), source: file };
}

/** The year's records as record lines, the form a peer stores and sends. Throws DataError. */
export function loadLinesSync(dir: string, year: number): LineDataset {
  const { file, text } = readDataText(dir, year);
  return { year, lines: parsed(file, () => parseStormLines(text, file)), source: file };
}

/** One data directory's years, each read at most once; failures are not kept, so a fixed file is retried. */
export class DatasetCache {
  private readonly years = new Map<number, LineDataset>();

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

  /** The year's record lines, or a one-line explanation. */
  load(year: number): LineDataset | string {
    const cached = this.years.get(year);
    if (cached) return cached;
    try {
      const data = loadLinesSync(this.dir, year);
      this.years.set(year, data);
      return data;
    } catch (err) {
      return err instanceof DataError ? err.message : reason(err);
    }
  }
}
