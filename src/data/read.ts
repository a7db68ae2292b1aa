// A data file's bytes, gunzipped if compressed, never more than MAX_DATA_BYTES: a 4 MB .csv.gz
// that inflates to 3.5 GiB once killed a leader with a V8 abort. Decided by content, not by
// name: a renamed .gz and a pre-decompressed "x.csv.gz" both work.
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzip, gunzipSync, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError, describeError } from './error.js';

/**
 * Largest data file, as read or once inflated. V8 refuses strings over ~512 MiB and parsing holds
 * the text and the records at once; a year of storm events is far smaller (1996: 3.2 MB; NOAA's
 * bulk yearly files are tens of MB).
 */
export const MAX_DATA_BYTES = 256 * 1024 * 1024;
const MIB = 1024 * 1024;

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function tooBig(file: string, limit: number): DataError {
  return new DataError(`data file ${file} is larger than ${Math.round(limit / MIB)} MiB (the limit for a data file)`);
}

function checkSize(file: string, limit: number): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${describeError(err)})`);
  }
  if (size > limit) throw tooBig(file, limit);
  if (size === 0) throw new DataError(`data file ${file} is empty`);
}

function inflateError(file: string, limit: number, err: unknown): DataError {
  if (err && typeof err === 'object' && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE') {
    return new DataError(`data file ${file} inflates to more than ${Math.round(limit / MIB)} MiB (the limit for a data file); refused`);
  }
  return new DataError(`data file ${file} is not a valid gzip file (${describeError(err)})`);
}

/** The file's bytes, gunzipped if compressed. Throws a one-line DataError. `limit` is for tests. */
export function readDataBytesSync(file: string, limit = MAX_DATA_BYTES): Buffer {
  checkSize(file, limit);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${describeError(err)})`);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    // maxOutputLength stops inflating at the bound instead of allocating what the file claims.
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    throw inflateError(file, limit, err);
  }
}

/** The asynchronous twin of readDataBytesSync. */
export async function readDataBytes(file: string, limit = MAX_DATA_BYTES): Promise<Buffer> {
  checkSize(file, limit);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${describeError(err)})`);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes, { maxOutputLength: limit });
  } catch (err) {
    throw inflateError(file, limit, err);
  }
}

/** A header and no record would build a DHT of nothing: refuse it with a sentence. */
export function requireRecords<T>(file: string, records: T[]): T[] {
  if (records.length === 0) throw new DataError(`data file ${file} has a header but no records`);
  return records;
}
