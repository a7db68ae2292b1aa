// Event logs of a simulated run, in the format of the programs' `--log` files (eventlog/), kept in
// memory: one log per process, in which each life (a start, or a restart after a crash) begins
// with its own header, as a restarted program appends to its file. Time is the world's virtual
// clock, the wall clock of a header is that virtual time after a fixed epoch, the host is `sim`,
// so a seed's logs are the same bytes on every run. `write(dir)` saves them as `<proc>.jsonl`
// files that `npm run diagram` reads; `texts()` hands them to the diagram code directly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLog } from '../eventlog/lines.js';
import type { Observer } from '../runtime/observer.js';
import type { WorldOptions } from './world.js';

/** Virtual time 0 as a wall-clock time in the headers (any fixed instant would do). */
const SIM_EPOCH = Date.UTC(2000, 0, 1);

export class SimLogs {
  /** Process name → its log lines (JSON texts), in order of first start. */
  private readonly logs = new Map<string, string[]>();
  private readonly lives = new Map<string, number>();

  /** The world option that gives every process life its log. */
  readonly observe: NonNullable<WorldOptions['observe']> = (proc, now) => this.start(proc, now);

  start(proc: string, now: number): Observer {
    let out = this.logs.get(proc);
    if (!out) this.logs.set(proc, (out = []));
    const life = (this.lives.get(proc) ?? 0) + 1;
    this.lives.set(proc, life);
    return new MemoryLog({ proc, now }, { host: 'sim', pid: life, wall: new Date(SIM_EPOCH + now).toISOString() }, out);
  }

  /** The processes that have a log, in order of first start (the manager first). */
  get names(): string[] {
    return [...this.logs.keys()];
  }

  /** Each process's log as the text of a file (`<proc>.jsonl`). */
  texts(): { file: string; text: string }[] {
    return [...this.logs].map(([proc, lines]) => ({ file: `${proc}.jsonl`, text: lines.map((l) => `${l}\n`).join('') }));
  }

  /** Writes `<dir>/<proc>.jsonl` for every process (replacing earlier files); returns the paths. */
  write(dir: string): string[] {
    mkdirSync(dir, { recursive: true });
    return this.texts().map(({ file, text }) => {
      const path = join(dir, file);
      writeFileSync(path, text);
      return path;
    });
  }
}
