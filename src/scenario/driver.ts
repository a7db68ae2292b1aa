// Drives real processes the way a person at a terminal would: type a line, wait for the
// answer line. Synchronisation is always on output, never on sleeps, so a slow machine only
// makes a run slower, not wrong.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import dgram from 'node:dgram';
import { LineWriter } from '../net/lines.js';

export interface DriverOptions {
  /** Echo every output line as `[name] line` and every typed line as `[name] > line`. */
  echo: boolean;
  /** Where echoed lines go (one buffered writer shared by all processes keeps lines whole). */
  writer?: LineWriter;
}

const TAIL_LINES = 30;

export class ProcessError extends Error {
  override name = 'ProcessError';
}

export class DrivenProcess {
  /** Every line the process printed (stdout and stderr), in arrival order. */
  readonly lines: string[] = [];
  /** Resolves with the exit code (128+signal number if killed by a signal) once output is read. */
  readonly exited: Promise<number>;
  exitCode: number | null = null;
  private cursor = 0;
  /** The process id (the benchmark reads its peak RSS from /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }
  private waiter: { re: RegExp; resolve: (index: number) => void; reject: (err: Error) => void } | null = null;
  private readonly watchers = new Set<{ re: RegExp; resolve: (line: string) => void; reject: (err: Error) => void }>();

  constructor(readonly name: string, private readonly child: ChildProcessWithoutNullStreams, private readonly options: DriverOptions) {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    }
    // stdin of a dead process: writes fail with EPIPE, which must not crash the driver.
    child.stdin.on('error', () => {});
    // A command that cannot start (ENOENT) still ends in 'close'; say why in its output.
    child.on('error', (err) => this.onLine(`driver: ${err.message}`));
    this.exited = new Promise((resolve) => {
      // 'close' comes after both output streams ended, so every line has been seen.
      child.on('close', (code, signal) => {
        this.exitCode = code ?? 128 + signalNumber(signal);
        this.failWaiter(`${this.name} exited with code ${this.exitCode}`);
        for (const w of [...this.watchers]) w.reject(new ProcessError(`${this.name} exited with code ${this.exitCode} (watching for ${w.re}); last output:\n${this.tail()}`));
        this.watchers.clear();
        resolve(this.exitCode);
      });
    });
  }

  /** Type a line into the process's stdin. */
  send(line: string): void {
    this.echo(`[${this.name}] > ${line}`);
    this.child.stdin.write(line + '\n');
  }

  /** Close the process's stdin (end of input, as Ctrl-D). */
  endInput(): void {
    this.child.stdin.end();
  }

  /** The first line matching re printed after the last match (or mark); rejects on timeout or exit. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const lines = await this.waitForLines(re, timeoutMs);
    return lines[lines.length - 1]!;
  }

  /** Every line from the last match point through the first line matching re. */
  waitForLines(re: RegExp, timeoutMs = 30_000): Promise<string[]> {
    if (this.waiter) return Promise.reject(new ProcessError(`${this.name}: already waiting for ${this.waiter.re}`));
    const start = this.cursor;
    const take = (index: number): string[] => {
      this.cursor = index + 1;
      return this.lines.slice(start, index + 1);
    };
    const found = this.search(re, start);
    if (found >= 0) return Promise.resolve(take(found));
    if (this.exitCode !== null) return Promise.reject(this.failure(`${this.name} exited with code ${this.exitCode}`, re));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.failWaiter(`${this.name}: no line matching ${re} within ${timeoutMs} ms`), timeoutMs);
      this.waiter = {
        re,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(take(index));
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  /**
   * The first line matching re printed from now on. Unlike waitFor it neither moves the read
   * position nor excludes other waits, so a test can react to a line (e.g. start injecting
   * traffic when an operation begins) while the scenario waits on the same process.
   */
  watch(re: RegExp, timeoutMs = 30_000): Promise<string> {
    if (this.exitCode !== null) return Promise.reject(this.failure(`${this.name} exited with code ${this.exitCode}`, re));
    return new Promise((resolve, reject) => {
      const w = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.watchers.delete(w);
        reject(this.failure(`${this.name}: no line matching ${re} within ${timeoutMs} ms`, re));
      }, timeoutMs);
      this.watchers.add(w);
    });
  }

  /** Skip everything printed so far: the next wait looks only at newer lines. */
  mark(): void {
    this.cursor = this.lines.length;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitCode === null) this.child.kill(signal);
  }

  /** The last lines of output, for error messages. */
  tail(count = TAIL_LINES): string {
    return this.lines.slice(-count).map((l) => `  [${this.name}] ${l}`).join('\n');
  }

  private onLine(line: string): void {
    this.lines.push(line);
    this.echo(`[${this.name}] ${line}`);
    for (const watcher of this.watchers) {
      if (watcher.re.test(line)) {
        this.watchers.delete(watcher);
        watcher.resolve(line);
      }
    }
    const w = this.waiter;
    if (w && w.re.test(line)) {
      this.waiter = null;
      w.resolve(this.lines.length - 1);
    }
  }

  private search(re: RegExp, from: number): number {
    for (let i = from; i < this.lines.length; i++) if (re.test(this.lines[i]!)) return i;
    return -1;
  }

  private failWaiter(why: string): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    w.reject(this.failure(why, w.re));
  }

  private failure(why: string, re: RegExp): ProcessError {
    return new ProcessError(`${why} (waiting for ${re}); last output:\n${this.tail()}`);
  }

  private echo(text: string): void {
    if (this.options.echo) (this.options.writer ?? defaultWriter()).line(text);
  }
}

let sharedWriter: LineWriter | null = null;
function defaultWriter(): LineWriter {
  sharedWriter ??= new LineWriter(process.stdout);
  return sharedWriter;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) ?? 0;
}

/** Start a process with piped stdio; its output is collected line by line. */
export function startProcess(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, options: DriverOptions = { echo: false }): DrivenProcess {
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  return new DrivenProcess(name, child, options);
}

/** k distinct free UDP ports: bind port 0 sockets, read what the OS chose, close them. */
export async function freePorts(k: number): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: k }, () => new Promise<dgram.Socket>((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
