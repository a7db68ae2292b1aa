// The time-space diagram of a scenario run: its processes' event logs (`--log`, one file per
// process in one directory) merged by the diagram program (src/diagram) into diagram.html.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../diagram/program.js';
import type { MergeStats } from '../diagram/merge.js';

/** The log files a scenario writes: `manager.jsonl` and `peer<k>.jsonl`. */
const SCENARIO_LOG = /^(manager|peer\d+)\.jsonl$/;
export const DIAGRAM_FILE = 'diagram.html';

/**
 * Makes the directory, and removes the logs and diagram of an earlier run there (each process
 * appends to its log: without this, the diagram would show both runs). Other files are left.
 */
export function prepareLogDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (SCENARIO_LOG.test(f) || f === DIAGRAM_FILE) rmSync(join(dir, f), { force: true });
}

/** The logs in the directory (manager first), in the order the diagram shows them. */
export function scenarioLogs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => SCENARIO_LOG.test(f));
  const rank = (f: string): number => (f.startsWith('manager') ? -1 : Number(/\d+/.exec(f)![0]));
  return files.sort((a, b) => rank(a) - rank(b)).map((f) => join(dir, f));
}

export interface DiagramResult { file: string; logs: string[]; stats: MergeStats; processes: number }

/** Merges the directory's logs into `<dir>/diagram.html`; null when there is no log. */
export function writeDiagram(dir: string, title: string): DiagramResult | null {
  const logs = scenarioLogs(dir);
  if (logs.length === 0) return null;
  const file = join(dir, DIAGRAM_FILE);
  const { merged } = run({ logs, out: file, title });
  return { file, logs, stats: merged.stats, processes: merged.procs.length };
}
