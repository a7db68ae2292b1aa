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
  /** Fastest logged setup / fastest plain one: less sensitive to a loaded machine. */
  bestRatio: number;
  /** CPU time of all peers during the setup (from their `status` lines), median per configuration. */
  plainCpuMs: number;
  loggedCpuMs: number;
  /** loggedCpuMs / plainCpuMs: what logging costs in work, whatever else the machine does. */
  cpuRatio: number;
  /** Bytes of event logs one logged run wrote (all processes, register to setup). */
  logBytes: number;
}

const N = 5;

/** CPU milliseconds the peers have used so far, from their `status` lines. */
async function cpuMs(system: System, names: string[]): Promise<number> {
  const each = await Promise.all(names.map(async (name) => {
    const p = system.peer(name);
    p.send('status');
    const line = await p.waitFor(/^process: /);
    return Number(/CPU (\d+) ms/.exec(line)?.[1] ?? NaN);
  }));
  return each.reduce((a, b) => a + b, 0);
}

/** One setup of n = 5 (register, setup-dht, read the leader's `done in` line); logs to logDir if given. */
async function setupOnce(set: { dir: string; year: number }, logDir: string | undefined): Promise<{ ms: number; cpuMs: number }> {
  const system = await System.start({ dataDir: set.dir, trace: 'off', echo: false, peerArgs: ['--window', '64'], ...(logDir ? { logDir } : {}) });
  try {
    const names = Array.from({ length: N }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const before = await cpuMs(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${N} ${set.year}`, /^setup-dht: done in /, BULK_MS);
    const ms = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    return { ms, cpuMs: (await cpuMs(system, names)) - before };
  } finally {
    // SIGTERM: each process closes its log before it exits.
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
}

export async function measureLogCost(set: { label: string; dir: string; year: number }, quick: boolean): Promise<LogCostFigure> {
  const repeats = quick ? 5 : 9;
  const logDir = path.join(repoRoot(), '.tmp', 'bench-logs');
  const plainMs: number[] = [];
  const loggedMs: number[] = [];
  const plainCpu: number[] = [];
  const loggedCpu: number[] = [];
  let logBytes = 0;
  // Alternating, so that a machine getting busier or quieter affects both alike.
  for (let i = 0; i < repeats; i++) {
    const plain = await setupOnce(set, undefined);
    plainMs.push(plain.ms);
    plainCpu.push(plain.cpuMs);
    rmSync(logDir, { recursive: true, force: true });
    const logged = await setupOnce(set, logDir);
    loggedMs.push(logged.ms);
    loggedCpu.push(logged.cpuMs);
    logBytes = readdirSync(logDir).reduce((a, f) => a + statSync(path.join(logDir, f)).size, 0);
    rmSync(logDir, { recursive: true, force: true });
  }
  const plainMedianMs = median(plainMs);
  const loggedMedianMs = median(loggedMs);
  const plainCpuMs = median(plainCpu);
  const loggedCpuMs = median(loggedCpu);
  const figure: LogCostFigure = {
    dataset: set.label, n: N, repeats, plainMs, loggedMs, plainMedianMs, loggedMedianMs, ratio: loggedMedianMs / plainMedianMs,
    bestRatio: Math.min(...loggedMs) / Math.min(...plainMs), plainCpuMs, loggedCpuMs, cpuRatio: loggedCpuMs / plainCpuMs, logBytes,
  };
  console.log(`log cost: ${set.label} setup n ${N}, median of ${repeats}: ${plainMedianMs.toFixed(1)} ms without --log, ` +
    `${loggedMedianMs.toFixed(1)} ms with --log on every process: ratio ${figure.ratio.toFixed(2)} (best ${figure.bestRatio.toFixed(2)}); ` +
    `peers' CPU ${plainCpuMs} → ${loggedCpuMs} ms: ratio ${figure.cpuRatio.toFixed(2)}; ${(logBytes / 1e6).toFixed(1)} MB of logs`);
  return figure;
}
