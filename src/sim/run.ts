// One simulated seed, whichever the workload: the fixed SPEC §6 script or the random one with
// crashes and partitions. The options round-trip through the command line: `replayArgs` gives
// the arguments that run exactly the same seed again (same prints, same datagrams, same digest).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { toLine } from '../data/line.js';
import { eventIdOf, type LineDataset, type StormRecord } from '../data/record.js';
import { loadDatasetSync } from '../data/loader.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import type { RetryPolicy } from '../reliable/index.js';
import { InvariantError } from '../runtime/assert.js';
import { TRACE_MODES, type TraceMode } from '../net/usage.js';
import { forkRandom } from './rng.js';
import { LATENCIES, type Latency } from './network.js';
import { runScenario, smallDataset } from './scenario.js';
import { World, type WorldOptions } from './world.js';
import { Checker, CheckFailure } from './checker.js';
import { Nemesis } from './faults.js';
import { RandomWorkload } from './workload.js';
import { SimLogs } from './logs.js';
import { DEFAULT_LIVENESS } from '../manager/liveness.js';
import { run as writeDiagram } from '../diagram/program.js';

export type Workload = 'script' | 'random';

export interface SimOptions {
  workload: Workload;
  seeds: number;
  firstSeed: number;
  steps: number;
  loss: number;
  dup: number;
  reorder: number;
  latency: Latency;
  crash: number;
  partition: number;
  peers: number;
  n: number;
  records: number;
  dataDir: string | undefined;
  year: number;
  trace: TraceMode;
  verbose: boolean;
  /** Write each seed's event logs and diagram here (`DIR/seed-N` when several seeds run). */
  log: string | undefined;
  /** The manager detects dead peers and repairs (on by default, as in `dht-manager`; PROTOCOL §4.11, §4.12). */
  detect: boolean;
  /** `dht-peer --replicas R` for every peer: a setup keeps each record at R nodes (random workload). */
  replicas: number;
  /** `dht-peer --compress on` for every peer: the store batches a leader cuts are deflated. */
  compress: boolean;
}

export const DEFAULTS: SimOptions = {
  workload: 'script', seeds: 200, firstSeed: 1, steps: 80, loss: 0.2, dup: 0.05, reorder: 0.1, latency: 'lan',
  crash: 0.02, partition: 0.02, peers: 6, n: 5, records: 2000, dataDir: undefined, year: 1996, trace: 'off', verbose: false, log: undefined, detect: true, replicas: 1, compress: false,
};

/** Retries for the random workload: fast enough that a crashed or cut-off peer is given up on in seconds. */
const RANDOM_RETRY: RetryPolicy = { rtoMs: 50, minRtoMs: 20, maxRtoMs: 400, maxTries: 20 };

const NUMBERS = ['seeds', 'first-seed', 'steps', 'loss', 'dup', 'reorder', 'crash', 'partition', 'peers', 'n', 'records', 'year', 'replicas'] as const;
const PROBABILITY = new Set(['loss', 'dup', 'reorder', 'crash', 'partition']);

/** The options from command-line arguments; an Error with a one-line message if one is bad. */
export function parseSimArgs(args: string[]): SimOptions & { help: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      workload: { type: 'string' }, latency: { type: 'string' }, trace: { type: 'string' }, 'data-dir': { type: 'string' }, log: { type: 'string' }, seed: { type: 'string' },
      ...Object.fromEntries(NUMBERS.map((k) => [k, { type: 'string' as const }])),
      verbose: { type: 'boolean', default: false }, detect: { type: 'boolean', default: false }, 'no-detect': { type: 'boolean', default: false }, compress: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  const v = values as Record<string, string | boolean | undefined>;
  const o: SimOptions = { ...DEFAULTS, verbose: v['verbose'] === true, detect: v['no-detect'] !== true, compress: v['compress'] === true };
  const key = (k: (typeof NUMBERS)[number]): keyof SimOptions => (k === 'first-seed' ? 'firstSeed' : k);
  for (const k of NUMBERS) {
    const text = v[k] as string | undefined;
    if (text === undefined) continue;
    const x = Number(text);
    if (text.trim() === '' || !Number.isFinite(x) || x < 0) throw new Error(`--${k} '${text}' is not a non-negative number`);
    if (PROBABILITY.has(k) && x > 1) throw new Error(`--${k} ${text} is not a probability from 0 to 1`);
    if (!PROBABILITY.has(k) && !Number.isInteger(x)) throw new Error(`--${k} ${text} is not a whole number`);
    (o as unknown as Record<string, number>)[key(k)] = x;
  }
  if (o.replicas < 1) throw new Error(`--replicas ${o.replicas}: every record is kept at least at its own node (1)`);
  const oneOf = <T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T => {
    if (value === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(value)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got '${String(value)}'`);
    return value as T;
  };
  o.workload = oneOf<Workload>('workload', v['workload'], ['script', 'random'], DEFAULTS.workload);
  o.latency = oneOf('latency', v['latency'], LATENCIES, DEFAULTS.latency);
  o.trace = oneOf('trace', v['trace'], TRACE_MODES, DEFAULTS.trace);
  o.dataDir = v['data-dir'] as string | undefined;
  const log = v['log'] as string | undefined;
  if (log === '') throw new Error('--log needs a directory');
  o.log = log;
  // --seed N: that one seed (the short form of --first-seed N --seeds 1).
  const seed = v['seed'] as string | undefined;
  if (seed !== undefined) {
    if (v['first-seed'] !== undefined || v['seeds'] !== undefined) throw new Error('--seed N is one seed: give it without --first-seed and --seeds');
    const x = Number(seed);
    if (seed.trim() === '' || !Number.isInteger(x) || x < 0) throw new Error(`--seed '${seed}' is not a non-negative whole number`);
    o.firstSeed = x;
    o.seeds = 1;
  }
  return { ...o, help: v['help'] === true };
}

/**
 * The arguments that replay one seed exactly: every option spelled out, and `--log` with this
 * seed's directory when logs were asked for. (The command line printed for a failing seed adds
 * `--log run/sim-seed-N` otherwise: cli.ts.)
 */
export function replayArgs(o: SimOptions, seed: number): string[] {
  const args = ['--workload', o.workload, '--seed', String(seed), '--steps', String(o.steps),
    '--loss', String(o.loss), '--dup', String(o.dup), '--reorder', String(o.reorder), '--latency', o.latency,
    '--crash', String(o.crash), '--partition', String(o.partition), '--peers', String(o.peers), '--n', String(o.n),
    '--year', String(o.year), '--trace', o.trace];
  if (o.dataDir !== undefined) args.push('--data-dir', o.dataDir);
  else args.push('--records', String(o.records));
  if (!o.detect) args.push('--no-detect');
  if (o.replicas > 1) args.push('--replicas', String(o.replicas));
  if (o.compress) args.push('--compress');
  const dir = logDirOf(o, seed);
  if (dir !== undefined) args.push('--log', dir);
  return args;
}

/** Where a seed's logs go: the --log directory itself for one seed, `DIR/seed-N` for several. */
export function logDirOf(o: SimOptions, seed: number): string | undefined {
  if (o.log === undefined) return undefined;
  return o.seeds === 1 ? o.log : join(o.log, `seed-${seed}`);
}

export interface SimData { records: StormRecord[]; queries: number[] }

export function loadSimData(o: SimOptions): SimData {
  if (o.dataDir === undefined) return smallDataset(o.year, o.records, 1);
  const ds = loadDatasetSync(o.dataDir, o.year);
  const ids = ds.records.map(eventIdOf);
  return { records: ds.records, queries: o.year === 1996 ? [5536849, 2402920, 5539287, 55770111] : [ids[0]!, Math.max(...ids) + 1] };
}

export interface SeedReport {
  seed: number;
  ok: boolean;
  failures: string[];
  /** Known weaknesses seen, by kind (random workload). */
  known: Map<string, number>;
  /** Operations completed (their final SUCCESS printed), by kind (random workload). */
  completed: Map<string, number>;
  digest: string;
  virtualMs: number;
  datagrams: number;
  dropped: number;
  crashes: number;
  partitions: number;
  answers: number;
  /** Copy tables compared with the data (--replicas > 1). */
  replicasChecked?: number;
  /** Nothing crashed, quit, restarted or split: the final views were compared too. */
  pristine: boolean;
  /** With --log: the diagram written (and the logs beside it). */
  diagram?: string;
}

/** Test hooks: a deliberately broken core, where verbose lines go. */
export type SeedHooks = Pick<WorldOptions, 'makePeerCore' | 'echo' | 'stateless'>;

export function runSeed(o: SimOptions, seed: number, data: SimData, hooks: SeedHooks = {}): SeedReport {
  const dir = logDirOf(o, seed);
  const logs = dir !== undefined ? new SimLogs() : undefined;
  const report = runSeedWith(o, seed, data, { ...hooks, ...(logs ? { observe: logs.observe } : {}) });
  if (logs && dir !== undefined) {
    // Written whether the seed passed or failed: a failing seed's diagram is the one wanted.
    const files = logs.write(dir);
    const out = join(dir, 'diagram.html');
    writeDiagram({ logs: files, out, title: `sim ${o.workload} seed ${seed}` });
    report.diagram = out;
  }
  return report;
}

function runSeedWith(o: SimOptions, seed: number, data: SimData, hooks: SeedHooks & Pick<WorldOptions, 'observe'>): SeedReport {
  const faults = { loss: o.loss, dup: o.dup, reorder: o.reorder };
  if (o.workload === 'script') {
    const r = runScenario({ seed, faults, peers: o.peers, n: o.n, year: o.year, ...data, verbose: o.verbose, compress: o.compress,
      world: { latency: o.latency, digest: true, trace: o.trace, ...hooks } });
    return { seed, ok: r.ok, failures: r.failures, known: new Map(), completed: new Map(), digest: r.digest, virtualMs: r.virtualMs, datagrams: r.datagrams, dropped: r.dropped, crashes: 0, partitions: 0, answers: 0, pristine: true };
  }
  const world = new World({
    seed, faults, latency: o.latency, trace: o.trace, verbose: o.verbose, digest: true, ...hooks,
    manager: { waitTimeoutMs: 10_000, retry: RANDOM_RETRY, ...(o.detect ? { liveness: DEFAULT_LIVENESS } : {}) },
    peer: { retry: RANDOM_RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 5_000, queriesInFlight: 4, ...(o.replicas > 1 ? { replicas: o.replicas } : {}), ...(o.compress ? { compress: true } : {}) },
    datasets: new Map<number, LineDataset>([[o.year, { year: o.year, lines: data.records.map(toLine), source: 'simulation' }]]),
  });
  const checker = new Checker(world, data.records);
  checker.attach();
  const nemesis = new Nemesis(world, checker, forkRandom(seed, 'nemesis'), { crash: o.crash, partition: o.partition });
  for (let i = 0; i < o.peers; i++) world.addPeer(`peer${i + 1}`, 5000 + 2 * i, 5001 + 2 * i);
  const ids = [...data.records.map(eventIdOf), ...data.queries];
  const workload = new RandomWorkload(world, checker, nemesis, forkRandom(seed, 'workload'), ids, { steps: o.steps, year: o.year, maxN: o.n });
  const failures: string[] = [];
  try {
    workload.run();
  } catch (e) {
    failures.push(describeFailure(e));
  }
  return { seed, ok: failures.length === 0, failures, known: checker.known, completed: checker.completed, digest: world.digest(), virtualMs: Math.round(world.now),
    datagrams: world.datagrams, dropped: world.dropped, crashes: nemesis.crashes, partitions: nemesis.partitions, answers: checker.answers, pristine: checker.pristine,
    ...(checker.replicasChecked > 0 ? { replicasChecked: checker.replicasChecked } : {}) };
}

function describeFailure(e: unknown): string {
  if (e instanceof CheckFailure) return `check: ${e.message}`;
  if (e instanceof InvariantError) return `${e.message} (${firstFrame(e)})`;
  return `crash: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
}

function firstFrame(e: Error): string {
  return (e.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ') && !l.includes('assert.'))?.trim().slice(3) ?? 'no stack';
}
