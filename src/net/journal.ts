// The manager's durable journal (`dht-manager --state FILE`, docs/PROTOCOL.md §4.10): an
// append-only file of JSON lines, fsynced before the answer that reports a change is sent. A line
// is a change (`{"change":…}`, what one request changed: manager/snapshot.ts) or a whole state
// (`{"snapshot":…}`); the state is the last snapshot with every later change applied (a file
// without a snapshot starts from nothing). A torn last line (a crash in the middle of a write) is
// cut off with a one-line note; any other bad line makes the file corrupt (the program refuses to
// start over it). The journal keeps the state the file adds up to (a Mirror); when the file grows
// past a bound it is compacted: that state alone is written to FILE.tmp, fsynced and renamed over
// FILE (then the directory is fsynced), so at every moment FILE holds a whole state. FILE.lock
// holds the process id of the manager using FILE: a second manager on the same file is refused
// while the first runs (a lock left by a killed one is taken over).
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Mirror, type Snapshot } from '../manager/snapshot.js';

/** Compact when the file is past this many bytes and past COMPACT_FACTOR times the last snapshot written. */
export const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
export const COMPACT_FACTOR = 8;

export class JournalError extends Error {
  override name = 'JournalError';
}

export interface Opened {
  journal: Journal;
  /** The saved state (its shape checked; the core checks the rest), or null: nothing saved yet. */
  saved: { state: Snapshot } | null;
  /** One-line notes for the console: a torn line skipped, a fresh start. */
  notes: string[];
}

/** Time spent making changes durable, for `status` and the measurements. */
export interface JournalStats { saves: number; bytes: number; totalMs: number; maxMs: number; compactions: number }

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
const SNAPSHOT_PREFIX = '{"snapshot":';

export class Journal {
  readonly stats: JournalStats = { saves: 0, bytes: 0, totalMs: 0, maxMs: 0, compactions: 0 };

  private constructor(
    readonly file: string,
    private fd: number,
    private size: number,
    private snapshotBytes: number,
    private readonly mirror: Mirror,
    private readonly compactMinBytes: number,
    private readonly lock: string,
  ) {}

  /**
   * Open FILE: read the state it holds, cut a torn tail, and keep it open for appending. `fresh`
   * starts empty on purpose: an existing file is first renamed to FILE.old, never overwritten.
   * Throws a JournalError (one line) for a file that cannot be read or holds a bad line.
   */
  static open(file: string, options: { fresh?: boolean; compactMinBytes?: number } = {}): Opened {
    const lock = takeLock(file);
    try {
      return Journal.read(file, lock, options);
    } catch (err) {
      unlinkSync(lock); // refused: the file is left as it was, unlocked
      throw err;
    }
  }

  private static read(file: string, lock: string, options: { fresh?: boolean; compactMinBytes?: number }): Opened {
    const notes: string[] = [];
    let mirror = new Mirror();
    let saved = false;
    let good = 0;
    let snapshotBytes = 0;
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
      let from = 0;
      for (let i = lines.length - 1; i >= 0; i--) {
        if (lines[i]!.startsWith(SNAPSHOT_PREFIX)) {
          from = i;
          break;
        }
      }
      const corrupt = (i: number, why: string): JournalError =>
        new JournalError(`the state file ${file} is corrupt: line ${i + 1} ${why}; start with --fresh to set it aside and start empty`);
      for (let i = from; i < lines.length; i++) {
        let value: { snapshot?: unknown; change?: unknown };
        try {
          value = JSON.parse(lines[i]!) as typeof value;
        } catch (err) {
          throw corrupt(i, `is not JSON (${oneLine(err)})`);
        }
        if (value === null || typeof value !== 'object') throw corrupt(i, 'is neither a snapshot nor a change');
        if ('snapshot' in value) {
          const m = Mirror.from(value.snapshot);
          if (!m.ok) throw corrupt(i, `is ${m.why}`);
          mirror = m.value;
          snapshotBytes = Buffer.byteLength(lines[i]!, 'utf8') + 1;
        } else if ('change' in value) {
          const r = mirror.apply(value.change);
          if (!r.ok) throw corrupt(i, `is ${r.why}`);
        } else throw corrupt(i, 'is neither a snapshot nor a change');
        saved = true;
      }
      good = Buffer.byteLength(text.slice(0, end), 'utf8');
    } else notes.push(`no state in ${file} yet: starting with no peers and no DHT`);
    let fd: number;
    try {
      fd = openSync(file, 'a');
      // A torn tail is cut so the next line starts on a line of its own.
      if (fstatSync(fd).size > good) ftruncateSync(fd, good);
    } catch (err) {
      throw new JournalError(`cannot write the state file ${file}: ${oneLine(err)}`);
    }
    const journal = new Journal(file, fd, good, snapshotBytes, mirror, options.compactMinBytes ?? COMPACT_MIN_BYTES, lock);
    return { journal, saved: saved ? { state: mirror.snapshot() } : null, notes };
  }

  /** Append one change and fsync it; compact past the bound. Throws (one line) if it cannot. */
  append(change: unknown): void {
    const start = performance.now();
    const applied = this.mirror.apply(change);
    if (!applied.ok) throw new Error(`the core's change does not check out: ${applied.why}`);
    const line = Buffer.from(`{"change":${JSON.stringify(change)}}\n`, 'utf8');
    writeAll(this.fd, line);
    fsyncSync(this.fd);
    this.size += line.length;
    if (this.size > Math.max(this.compactMinBytes, COMPACT_FACTOR * this.snapshotBytes)) this.compact();
    const ms = performance.now() - start;
    this.stats.saves += 1;
    this.stats.bytes += line.length;
    this.stats.totalMs += ms;
    this.stats.maxMs = Math.max(this.stats.maxMs, ms);
  }

  /** Close the file and give up the lock (on exit; a killed process leaves the lock to be taken over). */
  close(): void {
    closeSync(this.fd);
    try {
      if (readFileSync(this.lock, 'utf8').trim() === String(process.pid)) unlinkSync(this.lock);
    } catch {
      // Already gone.
    }
  }

  /** The state alone, written beside FILE and renamed over it: FILE is whole at every moment. */
  private compact(): void {
    const line = Buffer.from(`${SNAPSHOT_PREFIX}${JSON.stringify(this.mirror.snapshot())}}\n`, 'utf8');
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
    this.snapshotBytes = line.length;
    this.stats.compactions += 1;
  }
}

/** FILE.lock with this process's id; refused while another live process holds it. */
function takeLock(file: string): string {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeAll(fd, Buffer.from(`${process.pid}\n`));
      closeSync(fd);
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new JournalError(`cannot lock the state file ${file} (${lock}): ${oneLine(err)}`);
    }
    let pid = NaN;
    try {
      pid = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new JournalError(`the state file ${file} is in use by process ${pid} (${lock}): two managers cannot share one state file`);
    }
    try {
      unlinkSync(lock); // left by a process that is gone (a crash, kill -9), or by this one
    } catch {
      // Removed meanwhile: try again.
    }
  }
  throw new JournalError(`cannot lock the state file ${file} (${lock}): it keeps changing`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
