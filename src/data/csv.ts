/**
 * Reading storm-event files (SPEC §4): course files (13 or 14 columns) and NOAA bulk files
 * (~51 quoted upper-case columns, often gzipped), found in a data directory by year.
 *
 * Every failure surfaces as a DataError with a one-line message, because the peer prints
 * it to a person as-is (SPEC §5: plain sentences, never a stack trace).
 */
import { readdirSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { parse, type Options as CsvOptions } from 'csv-parse/sync';
import { COLUMNS, type Dataset, type StormRecord } from './record.js';
import { toLine } from './line.js';
import { MAX_LINE } from '../protocol/limits.js';
import { DataError, describeError as describe } from './error.js';
import { readDataBytes, requireRecords } from './read.js';

export { DataError };

/** Files without this column (some semesters') get '' for it; the rest are required. */
const OPTIONAL_COLUMNS: ReadonlySet<string> = new Set(['tor_f_scale']);

/** For each COLUMNS entry, the index of that column in the file (-1: absent, optional). */
type ColumnMap = number[];

/** Keeps untrusted text on one line and short, so error messages stay one line. */
function quoteForMessage(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}

function at(source: string, line: number): string {
  return `${source}, line ${line}`;
}

/** Map header names (any case, any order, extra columns allowed) to COLUMNS positions. */
function mapHeader(header: string[], source: string): ColumnMap {
  const indexByName = new Map<string, number>();
  header.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    // First occurrence wins: neither course nor NOAA files repeat a name, so this only
    // makes a malformed header resolve the same way every time.
    if (!indexByName.has(key)) indexByName.set(key, i);
  });
  const missing = COLUMNS.filter((c) => !indexByName.has(c) && !OPTIONAL_COLUMNS.has(c));
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'column' : 'columns';
    throw new DataError(`${source}: missing required ${noun} ${missing.join(', ')} in the header line`);
  }
  return COLUMNS.map((c) => indexByName.get(c) ?? -1);
}

/** True when the file's columns are exactly COLUMNS in order, so a row is already a record. */
function isIdentity(map: ColumnMap, fieldCount: number): boolean {
  return fieldCount === COLUMNS.length && map.every((fileIndex, i) => fileIndex === i);
}

const EVENT_ID = /^[0-9]+$/;

function checkEventId(value: string, source: string, line: number): void {
  if (!EVENT_ID.test(value)) {
    throw new DataError(`${at(source, line)}: event_id ${quoteForMessage(value)} is not a non-negative integer`);
  }
  // Beyond 2^53 the hash (event_id mod s) would be computed on a rounded number.
  if (!Number.isSafeInteger(Number(value))) {
    throw new DataError(`${at(source, line)}: event_id ${quoteForMessage(value)} is too large (above 2^53 - 1)`);
  }
}

function pick(fields: string[], map: ColumnMap): StormRecord {
  const record = new Array<string>(map.length);
  for (let i = 0; i < map.length; i++) {
    const fileIndex = map[i];
    record[i] = fileIndex < 0 ? '' : fields[fileIndex];
  }
  return record;
}

function wrongFieldCount(source: string, line: number, got: number, expected: number): DataError {
  return new DataError(`${at(source, line)}: row has ${got} fields but the header has ${expected}`);
}

function noHeader(source: string): DataError {
  return new DataError(`${source}: the file is empty (no header line)`);
}

/** Fields of text[start, end) split on commas; an empty line would give [''], never seen here. */
function splitFields(text: string, start: number, end: number): string[] {
  const fields: string[] = [];
  for (;;) {
    const comma = text.indexOf(',', start);
    if (comma < 0 || comma >= end) {
      fields.push(text.slice(start, end));
      return fields;
    }
    fields.push(text.slice(start, comma));
    start = comma + 1;
  }
}

/**
 * Each non-empty line of an unquoted text as [start, end) and its 1-based line number, until
 * `visit` returns false (then false is returned). Only a \r right before a \n belongs to the
 * delimiter (as for csv-parse and /\r?\n/).
 */
function forEachLine(text: string, visit: (start: number, end: number, line: number) => boolean): boolean {
  let line = 0;
  for (let start = 0; start <= text.length; ) {
    line++;
    const newline = text.indexOf('\n', start);
    const next = newline < 0 ? text.length : newline;
    const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : next;
    if (end > start && !visit(start, end, line)) return false;
    start = next + 1;
  }
  return true;
}

/**
 * Unquoted CSV split by hand. Equivalent to csv-parse when the text has no '"': the only
 * structure is then record delimiters (\r\n or \n) and commas. It is the same as
 * `text.split(/\r?\n/)` then `line.split(',')`, but scanning with indexOf avoids making
 * every line a string first: about 5x faster than csv-parse and 1.4x faster than split on
 * the 1996 file, which matters because setup time is benchmarked.
 */
function parseUnquoted(text: string, source: string): StormRecord[] {
  const records: StormRecord[] = [];
  let header: string[] | null = null;
  let map: ColumnMap = [];
  let identity = false;
  let idIndex = 0;
  forEachLine(text, (start, end, line) => {
    const fields = splitFields(text, start, end);
    if (header === null) {
      header = fields;
      map = mapHeader(header, source);
      identity = isIdentity(map, header.length);
      idIndex = map[0];
    } else {
      if (fields.length !== header.length) throw wrongFieldCount(source, line, fields.length, header.length);
      checkEventId(fields[idIndex], source, line);
      records.push(identity ? fields : pick(fields, map));
    }
    return true;
  });
  if (header === null) throw noHeader(source);
  return records;
}

/** Options shared by both library calls so the line-number pass sees the same records. */
const LIBRARY_OPTIONS: CsvOptions = {
  bom: true,
  relax_column_count: false,
  skip_empty_lines: true,
  // Pinned rather than auto-detected: auto-detection locks onto the first delimiter it
  // sees, so a mixed LF/CRLF file would parse differently from the fast path.
  record_delimiter: ['\r\n', '\n'],
};

/** csv-parse's error shape (CsvError); only the fields used for the message. */
interface CsvErrorLike {
  code?: string;
  message: string;
  lines?: number;
  record?: string[];
}

/** Embedded newlines in quoted fields advance csv-parse's line counter; undo them. */
function newlinesIn(fields: string[]): number {
  let count = 0;
  for (const field of fields) {
    for (let at = field.indexOf('\n'); at >= 0; at = field.indexOf('\n', at + 1)) count++;
  }
  return count;
}

function libraryError(err: unknown, source: string, expectedFields: number): DataError {
  const e = err as CsvErrorLike;
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && e.record && e.lines !== undefined) {
    const line = e.lines - newlinesIn(e.record);
    return wrongFieldCount(source, line, e.record.length, expectedFields);
  }
  const where = e.lines !== undefined ? at(source, e.lines) : source;
  return new DataError(`${where}: malformed CSV (${e.message.replace(/\s+/g, ' ')})`);
}

/** Field count of the header record; only for error messages, so a failure here is moot. */
function headerFieldCount(text: string): number {
  try {
    const rows = parse(text, { ...LIBRARY_OPTIONS, to: 1 }) as string[][];
    return rows[0]?.length ?? 0;
  } catch {
    return 0;
  }
}

/**
 * The line a record starts on. Only needed to report a bad row, so it re-parses with
 * `info` on demand rather than paying ~50% more on every successful parse.
 */
function startLineOfRecord(text: string, recordIndex: number): number {
  const rows = parse(text, { ...LIBRARY_OPTIONS, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  const row = rows[recordIndex];
  return row.info.lines - newlinesIn(row.record);
}

/**
 * Full CSV via csv-parse: quoted fields with commas, doubled quotes and newlines.
 * Exported for tests, which check it agrees with the fast path on real files.
 * @internal
 */
export function parseWithLibrary(text: string, source = '<input>'): StormRecord[] {
  let rows: string[][];
  try {
    rows = parse(text, LIBRARY_OPTIONS) as string[][];
  } catch (err) {
    throw libraryError(err, source, headerFieldCount(text));
  }
  if (rows.length === 0) throw noHeader(source);
  const header = rows[0];
  const map = mapHeader(header, source);
  const identity = isIdentity(map, header.length);
  const idIndex = map[0];
  const records: StormRecord[] = new Array(rows.length - 1);
  for (let i = 1; i < rows.length; i++) {
    const fields = rows[i];
    const id = fields[idIndex];
    // Only a bad row pays for finding its line number.
    if (!EVENT_ID.test(id) || !Number.isSafeInteger(Number(id))) checkEventId(id, source, startLineOfRecord(text, i));
    records[i - 1] = identity ? fields : pick(fields, map);
  }
  return records;
}

/**
 * Parse a storm-events CSV text. Columns found by header name, case-insensitively, any
 * order; extra columns ignored. tor_f_scale is optional ('' when absent); the other 13
 * are required. Handles LF/CRLF, quoted fields, empty trailing fields, blank lines, BOM.
 * Throws DataError naming `source` and, for a bad row, its line number.
 */
export function parseStormCsv(text: string, source = '<input>'): StormRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.includes('"') ? parseWithLibrary(body, source) : parseUnquoted(body, source);
}

/**
 * The records of a storm-events CSV text as record lines (data/line.ts), the form peers store
 * and send. A course file with the columns in course order and no quotes already is such lines,
 * so they are sliced out of the text after the same checks parseStormCsv makes; anything else is
 * parsed field by field and re-joined. Same records, same errors as parseStormCsv.
 */
export function parseStormLines(text: string, source = '<input>'): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = (!body.includes('"') && sliceCourseLines(body, source)) || parseStormCsv(body, source).map(toLine);
  for (const line of lines) {
    // A record must fit a datagram's fragments and a query's answer (protocol MAX_LINE).
    if (line.length > MAX_LINE) throw new DataError(`${source}: the record with event_id ${line.slice(0, line.indexOf(','))} is longer than ${MAX_LINE} characters`);
  }
  return lines;
}

/** The lines of an unquoted file whose header is exactly the course columns; null otherwise. */
function sliceCourseLines(text: string, source: string): string[] | null {
  const lines: string[] = [];
  let headerSeen = false;
  const course = forEachLine(text, (start, end, line) => {
    if (!headerSeen) {
      const header = splitFields(text, start, end);
      headerSeen = true;
      return isIdentity(mapHeader(header, source), header.length);
    }
    const row = text.slice(start, end);
    const fields = countCommas(row) + 1;
    if (fields !== COLUMNS.length) throw wrongFieldCount(source, line, fields, COLUMNS.length);
    checkEventId(row.slice(0, row.indexOf(',')), source, line);
    lines.push(row);
    return true;
  });
  if (!headerSeen) throw noHeader(source);
  return course ? lines : null;
}

function countCommas(s: string): number {
  let n = 0;
  for (let i = s.indexOf(','); i >= 0; i = s.indexOf(',', i + 1)) n += 1;
  return n;
}

const STORM_EVENTS_NAME = /^stormevents_details-ftp_v1\.0_d(\d{4})_c(\d{8})\.csv(\.gz)?$/i;

function yearText(year: number): string | null {
  return Number.isSafeInteger(year) && year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : null;
}

/** Names in dir that are files (or links to them); null if dir cannot be listed. */
function listFiles(dir: string): string[] | null {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() || entry.isSymbolicLink())
      .map((entry) => entry.name)
      .sort(); // readdir order is filesystem-dependent; sort so ties resolve the same everywhere
  } catch {
    return null;
  }
}

/**
 * The file for a year in dir: details-YYYY.csv, then details-YYYY.csv.gz, then NOAA's
 * StormEvents_details-ftp_v1.0_dYYYY_c<date>.csv[.gz] with the newest creation date
 * (NOAA republishes corrected files under a new c-date). Names match case-insensitively.
 * Synchronous so a peer can pre-check before asking the manager; null if none.
 */
export function findDatasetFile(dir: string, year: number): string | null {
  const yyyy = yearText(year);
  const names = yyyy === null ? null : listFiles(dir);
  if (yyyy === null || names === null) return null;
  const byLowerName = new Map(names.map((name) => [name.toLowerCase(), name]));
  for (const wanted of [`details-${yyyy}.csv`, `details-${yyyy}.csv.gz`]) {
    const name = byLowerName.get(wanted);
    if (name !== undefined) return join(dir, name);
  }
  let best: { name: string; cdate: string; gz: boolean } | null = null;
  for (const name of names) {
    const m = STORM_EVENTS_NAME.exec(name);
    if (!m || m[1] !== yyyy) continue;
    const candidate = { name, cdate: m[2], gz: m[3] !== undefined };
    // Newest c-date wins; on a tie the uncompressed copy saves a gunzip.
    if (!best || candidate.cdate > best.cdate || (candidate.cdate === best.cdate && best.gz && !candidate.gz)) {
      best = candidate;
    }
  }
  return best ? join(dir, best.name) : null;
}

/** Throws DataError with a one-line explanation if no readable file for that year; else its path. */
export function checkDatasetReadable(dir: string, year: number): string {
  const yyyy = yearText(year);
  if (yyyy === null) throw new DataError(`year must be a whole number such as 1996, got ${year}`);
  let dirIsDirectory: boolean;
  try {
    dirIsDirectory = statSync(dir).isDirectory();
  } catch {
    throw new DataError(`data directory ${dir} does not exist or cannot be read`);
  }
  if (!dirIsDirectory) throw new DataError(`data directory ${dir} is not a directory`);
  const file = findDatasetFile(dir, year);
  if (file === null) {
    throw new DataError(
      `no data file for ${yyyy} in ${dir} (looked for details-${yyyy}.csv, details-${yyyy}.csv.gz, ` +
        `StormEvents_details-ftp_v1.0_d${yyyy}_c*.csv[.gz])`,
    );
  }
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    accessSync(file, fsConstants.R_OK);
    size = st.size;
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${describe(err)})`);
  }
  // Caught here, before a setup is asked for; a header without records only once it is read.
  if (size === 0) throw new DataError(`data file ${file} is empty`);
  return file;
}

/**
 * Load the year's file from dir: gunzip if compressed (within read.ts's bound), parse. Any
 * failure, a file without records included, is a DataError.
 */
export async function loadDataset(dir: string, year: number): Promise<Dataset> {
  const file = checkDatasetReadable(dir, year);
  const bytes = await readDataBytes(file);
  try {
    return { year, records: requireRecords(file, parseStormCsv(bytes.toString('utf8'), file)), source: file };
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`data file ${file} could not be parsed (${describe(err)})`);
  }
}
