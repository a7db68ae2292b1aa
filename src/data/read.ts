// A data file's bytes, gunzipped if compressed, never more than MAX_DATA_BYTES: a 4 MB .csv.gz
// that inflates to 3.5 GiB once killed a leader with a V8 abort. Decided by content, not by
// name: a renamed .gz and a pre-decompressed "x.csv.gz" both work.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
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

/** Bytes read at a time by readDataTextSync: under glibc's 128 KB mmap threshold (see there). */
const CHUNK = 120 * 1024;

/**
 * The file's text (gunzipped if compressed). An uncompressed file is read in 64 KB pieces into one
 * reused buffer instead of one buffer of the file's size: a buffer above 128 KB is mmapped by
 * glibc's malloc, and freeing it raises malloc's mmap and trim thresholds for the rest of the
 * process (to the buffer's size and twice that), after which freed memory up to several MB stays
 * resident: ~5 MB of a leader's peak RSS over repeated setups (docs/BENCHMARKS.md).
 */
export function readDataTextSync(file: string, limit = MAX_DATA_BYTES): string {
  checkSize(file, limit);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new DataError(`data file ${file} cannot be read (${describeError(err)})`);
  }
  const pieces: string[] = [];
  try {
    const chunk = Buffer.allocUnsafeSlow(CHUNK);
    const decoder = new StringDecoder('utf8');
    let total = 0;
    // While every piece so far was ASCII no UTF-8 sequence can be split between pieces, and an
    // ASCII piece is its own Latin-1 text: copied, not decoded.
    let ascii = true;
    for (;;) {
      const got = readSync(fd, chunk, 0, CHUNK, null);
      if (got === 0) break;
      const piece = chunk.subarray(0, got);
      if (total === 0 && isGzip(piece)) return readDataBytesSync(file, limit).toString('utf8');
      total += got;
      if (total > limit) throw tooBig(file, limit);
      ascii &&= isAscii(piece);
      pieces.push(ascii ? piece.toString('latin1') : decoder.write(piece));
    }
    pieces.push(decoder.end());
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`data file ${file} cannot be read (${describeError(err)})`);
  } finally {
    closeSync(fd);
  }
  return pieces.join('');
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
