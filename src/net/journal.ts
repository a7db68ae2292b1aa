// The manager's durable journal (`dht-manager --state FILE`, docs/PROTOCOL.md §4.10): an
// append-only file of state snapshots (manager/snapshot.ts), one JSON line each, fsynced before
// the answer that reports the change is sent. On start the last complete line is the state; a
// torn last line (a crash in the middle of a write) is cut off with a one-line note. When the file
// grows past a bound it is compacted: the last snapshot alone is written to FILE.tmp, fsynced and
// renamed over FILE (then the directory is fsynced), so at every moment FILE holds a whole state.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Compact when the file is past this many bytes and past COMPACT_FACTOR snapshots of the current size. */
export const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
export const COMPACT_FACTOR = 8;

export class JournalError extends Error {
  override name = 'JournalError';
}

export interface Opened {
  journal: Journal;
  /** The last saved snapshot (unchecked JSON: the core validates it), or null to start empty. */
  saved: { state: unknown } | null;
  /** One-line notes for the console: a torn line skipped, a fresh start. */
  notes: string[];
}

/** Time spent making snapshots durable, for `status` and the measurements. */
export interface JournalStats { saves: number; bytes: number; totalMs: number; maxMs: number; compactions: number }

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export class Journal {
  readonly stats: JournalStats = { saves: 0, bytes: 0, totalMs: 0, maxMs: 0, compactions: 0 };

  private constructor(readonly file: string, private fd: number, private size: number, private readonly compactMinBytes: number) {}

  /**
   * Open FILE: read its last snapshot, cut a torn tail, and keep it open for appending. `fresh`
   * starts empty on purpose: an existing file is first renamed to FILE.old, never overwritten.
   * Throws a JournalError (one line) for a file that cannot be read or whose last line is not JSON.
   */
  static open(file: string, options: { fresh?: boolean; compactMinBytes?: number } = {}): Opened {
    const notes: string[] = [];
    let saved: Opened['saved'] = null;
    let good = 0;
    if (options.fresh && existsSync(file)) {
      try {
        renameSync(file, `${file}.old`);
      } catch (err) {
        throw new JournalError(`cannot move the old state file ${file} aside: ${oneLine(err)}`);
      }
      notes.push(`--fresh: starting with no peers and no DHT; the old state is kept in ${file}.old`);
    } else if (existsSync(file)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new JournalError(`cannot read the state file ${file}: ${oneLine(err)}`);
      }
      const end = text.lastIndexOf('\n') + 1;
      const tail = text.slice(end);
      if (tail.length > 0) notes.push(`skipped the torn last line of ${file} (${tail.length} bytes without a line end: a write cut short by a crash)`);
      const lines = text.slice(0, end).split('\n');
      lines.pop();
      const last = lines.at(-1);
      if (last !== undefined) {
        try {
          saved = { state: JSON.parse(last) as unknown };
        } catch (err) {
          throw new JournalError(`the state file ${file} is corrupt: line ${lines.length} is not JSON (${oneLine(err)}); start with --fresh to set it aside and start empty`);
        }
      }
      good = Buffer.byteLength(text.slice(0, end), 'utf8');
    } else notes.push(`no state in ${file} yet: starting with no peers and no DHT`);
    let fd: number;
    try {
      fd = openSync(file, 'a');
      // A torn tail is cut so the next snapshot starts on a line of its own.
      if (fstatSync(fd).size > good) ftruncateSync(fd, good);
    } catch (err) {
      throw new JournalError(`cannot write the state file ${file}: ${oneLine(err)}`);
    }
    return { journal: new Journal(file, fd, good, options.compactMinBytes ?? COMPACT_MIN_BYTES), saved, notes };
  }

  /** Append one snapshot and fsync it; compact past the bound. Throws (one line) if it cannot. */
  append(state: unknown): void {
    const start = performance.now();
    const line = Buffer.from(`${JSON.stringify(state)}\n`, 'utf8');
    writeAll(this.fd, line);
    fsyncSync(this.fd);
    this.size += line.length;
    if (this.size > Math.max(this.compactMinBytes, COMPACT_FACTOR * line.length)) this.compact(line);
    const ms = performance.now() - start;
    this.stats.saves += 1;
    this.stats.bytes += line.length;
    this.stats.totalMs += ms;
    this.stats.maxMs = Math.max(this.stats.maxMs, ms);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Only the last snapshot, written beside FILE and renamed over it: FILE is whole at every moment. */
  private compact(line: Buffer): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    syncDir(dirname(this.file) || '.');
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.size = line.length;
    this.stats.compactions += 1;
  }

  describe(): string {
    return `state file ${basename(this.file)}`;
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Make a rename durable: fsync the directory (not possible everywhere; then the rename is only atomic). */
function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some systems cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
