// Reading a year's dataset for the peer process. The peer core asks for it with a `load` effect
// and gets it back as a later `loaded` input (runtime/effects.ts); the peer shell answers through
// DatasetCache on a later tick, so an acknowledgement never waits for a file. A year's file is
// read once per process and then kept.
import type { Dataset, LineDataset } from './record.js';
import { DataError, checkDatasetReadable, parseStormCsv, parseStormLines } from './csv.js';
import { describeError as reason } from './error.js';
import { readDataTextSync, requireRecords } from './read.js';

/** The text of the year's file in dir (gunzipped if compressed, within read.ts's bound) and its path; DataError if unreadable. */
function readDataText(dir: string, year: number): { file: string; text: string } {
  const file = checkDatasetReadable(dir, year);
  return { file, text: readDataTextSync(file) };
}

/** The records parse() finds, refusing none at all; any failure a one-line DataError. */
function parsed<T>(file: string, parse: () => T[]): T[] {
  try {
    return requireRecords(file, parse());
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
