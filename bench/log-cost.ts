// What `--log` costs: the same setup (1996, n = 5 when the course file is there) timed with and
// without an event log on every process, alternating, and the ratio of the medians. Called from
// run.ts; the figure is quoted in docs/BENCHMARKS.md and docs/DIAGRAMS.md.
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { System, ask, repoRoot, BULK_MS } from '../src/scenario/system.js';
import { median } from './floor.js';

export interface LogCostFigure {
  dataset: string;
  n: number;
  /** Setups timed in each configuration. */
  repeats: number;
  plainMs: number[];
  loggedMs: number[];
  plainMedianMs: number;
  loggedMedianMs: number;
  /** loggedMedianMs / plainMedianMs. */
  ratio: number;
  /** Bytes of event logs one logged run wrote (all processes, register to setup). */
  logBytes: number;
}

const N = 5;

/** One setup of n = 5 (register, setup-dht, read the leader's `done in` line); logs to logDir if given. */
async function setupOnce(set: { dir: string; year: number }, logDir: string | undefined): Promise<number> {
  const system = await System.start({ dataDir: set.dir, trace: 'off', echo: false, peerArgs: ['--window', '64'], ...(logDir ? { logDir } : {}) });
  try {
    await system.addPeers(Array.from({ length: N }, (_, i) => `peer${i + 1}`));
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${N} ${set.year}`, /^setup-dht: done in /, BULK_MS);
    return Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
  } finally {
    // SIGTERM: each process closes its log before it exits.
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
}

export async function measureLogCost(set: { label: string; dir: string; year: number }, quick: boolean): Promise<LogCostFigure> {
  const repeats = quick ? 3 : 5;
  const logDir = path.join(repoRoot(), '.tmp', 'bench-logs');
  const plainMs: number[] = [];
  const loggedMs: number[] = [];
  let logBytes = 0;
  // Alternating, so that a machine getting busier or quieter affects both alike.
  for (let i = 0; i < repeats; i++) {
    plainMs.push(await setupOnce(set, undefined));
    rmSync(logDir, { recursive: true, force: true });
    loggedMs.push(await setupOnce(set, logDir));
    logBytes = readdirSync(logDir).reduce((a, f) => a + statSync(path.join(logDir, f)).size, 0);
    rmSync(logDir, { recursive: true, force: true });
  }
  const plainMedianMs = median(plainMs);
  const loggedMedianMs = median(loggedMs);
  const figure: LogCostFigure = { dataset: set.label, n: N, repeats, plainMs, loggedMs, plainMedianMs, loggedMedianMs, ratio: loggedMedianMs / plainMedianMs, logBytes };
  console.log(`log cost: ${set.label} setup n ${N}, median of ${repeats}: ${plainMedianMs.toFixed(1)} ms without --log, ` +
    `${loggedMedianMs.toFixed(1)} ms with --log on every process: ratio ${figure.ratio.toFixed(2)} (${(logBytes / 1e6).toFixed(1)} MB of logs)`);
  return figure;
}
