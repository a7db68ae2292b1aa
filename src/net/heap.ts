// The young generation's size, bounded from inside the program. V8 grows each semi-space of the
// young generation from 1 MB up to 16 MB (Node 20, 64-bit) when much survives a scavenge; at
// 16 MB the two semi-spaces and the promotion buffer alone are ~48 MB of resident memory, most of
// a peer's peak. `--max-semi-space-size` can only be given on node's command line (the heap is
// sized before any script runs), but the growth factor is read at every growth: once the
// semi-space has reached the cap, setting it to 1 stops the growth. Checked after each GC.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PerformanceObserver } from 'node:perf_hooks';
import { appendFileSync, readFileSync } from 'node:fs';

/** Default cap of one semi-space (MB) for a peer: measured on 1996 setups and over repeated ones (docs/BENCHMARKS.md). */
export const DEFAULT_SEMI_SPACE_MB = 2;
/** The manager's: it handles a few datagrams per request, so a smaller young generation costs it nothing measurable. */
export const MANAGER_SEMI_SPACE_MB = 1;

/** The current capacity of one semi-space in bytes. */
function semiSpace(): number {
  const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s ? s.space_size / 2 : 0;
}

/**
 * Stop the young generation's growth once a semi-space holds `defaultMb` MB or more
 * ($DHT_SEMI_SPACE_MB overrides; 0 leaves V8's default growth alone).
 */
export function capYoungGeneration(defaultMb = DEFAULT_SEMI_SPACE_MB): void {
  const mb = Number(process.env['DHT_SEMI_SPACE_MB'] ?? defaultMb);
  if (!(mb > 0)) return;
  const cap = mb * 1024 * 1024;
  const check = (): boolean => {
    if (semiSpace() < cap) return false;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    return true;
  };
  if (check()) return;
  const obs = new PerformanceObserver(() => {
    if (check()) obs.disconnect();
  });
  obs.observe({ entryTypes: ['gc'] });
}

/** Default growth of the old generation's limit after a full GC, in percent (V8 grows it by up to 4×). */
export const DEFAULT_HEAP_GROWING_PERCENT = 10;

/**
 * The old generation's limit grows by `defaultPercent` after each full GC instead of V8's
 * factor (which lets the garbage of a dropped table, a finished store stream or a loaded file's
 * text pile up to several times the live heap before the next full GC). Read by V8 at every GC,
 * so it works from inside the program. $DHT_HEAP_GROWING_PERCENT overrides; 0 leaves V8's default.
 */
export function slowOldGenerationGrowth(defaultPercent = DEFAULT_HEAP_GROWING_PERCENT): void {
  const percent = Number(process.env['DHT_HEAP_GROWING_PERCENT'] ?? defaultPercent);
  if (!(percent > 0)) return;
  v8.setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}

/**
 * The manager runs without V8's optimizing compiler (TurboFan): it handles a few datagrams per
 * request, and TurboFan's own code (pages of the node binary, touched as soon as a function gets
 * hot) and its background compilations are ~4 MB of the idle manager's 53 MB resident memory.
 * Must run before the program's modules are loaded. $DHT_MANAGER_OPT=1 keeps the compiler (and
 * leaves the two settings below alone).
 */
export function managerCompilerTiers(): void {
  if (process.env['DHT_MANAGER_OPT'] === '1') return;
  v8.setFlagsFromString('--no-opt');
  // Nor the baseline compiler (Sparkplug), for the same reason (~0.7 MB over repeated setups);
  // $DHT_MANAGER_SPARKPLUG=1 keeps it.
  if (process.env['DHT_MANAGER_SPARKPLUG'] !== '1') v8.setFlagsFromString('--no-sparkplug');
  // V8's memory-saving mode: after a full GC the old generation may grow by 2 MB before the next,
  // not 8 (at ~5 MB live the manager otherwise carries up to 8 MB of garbage), and fragmented
  // pages are compacted more. Its cost is GC work, small at the manager's heap; not for peers,
  // whose larger heaps made it cost 5–15 % of their CPU over repeated setups (docs/BENCHMARKS.md).
  // $DHT_MANAGER_OFS=0 leaves it off.
  if (process.env['DHT_MANAGER_OFS'] !== '0') v8.setFlagsFromString('--optimize-for-size');
}

/** Garbage in the old generation (MB above what the last full collection left) that starts one. */
export const MANAGER_GARBAGE_MB = 1;
/**
 * How often the manager looks ($DHT_MANAGER_GC_MS overrides). Garbage piles up between two looks
 * at the rate requests come: at ~7,000 queries/s (the bench's warmed-up query row) the manager's
 * peak was 50.5–50.7 MB looking every 500 ms, 49.2–49.3 every 100 ms and 48.7 every 50 ms, with
 * the same queries/s (docs/BENCHMARKS.md, "Issue 11, eighth round"). A look is one call for the
 * heap's statistics (~10 µs): twenty a second cost nothing measurable.
 */
const GARBAGE_CHECK_MS = positive(process.env['DHT_MANAGER_GC_MS'], 50);

/** A setting from the environment if it is a number ≥ 1 (an empty or mistyped one would poll every 1 ms), else the default. */
function positive(text: string | undefined, fallback: number): number {
  const v = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(v) && v >= 1 ? v : fallback;
}

/**
 * The manager collects its old generation once it holds MANAGER_GARBAGE_MB of garbage, checked
 * every GARBAGE_CHECK_MS. Under a stream of requests (thousands of queries a second) short-lived objects
 * outlive its small young generation and are promoted; V8 lets the old generation grow by steps
 * before collecting it, and the manager's peak grew ~3 MB over 8,000 queries. A full collection of
 * its ~5 MB heap takes a few milliseconds. Needs `--expose-gc`, set before the program loads
 * (`exposeGc`); $DHT_MANAGER_GC=0 leaves V8 alone, $DHT_MANAGER_GC_MB sets the threshold (experiments: 0.25
 * took ~0.5 MB off the peak over 8,000 queries for +12–25 % of the manager's CPU per query).
 */
export function exposeGc(): void {
  if (process.env['DHT_MANAGER_GC'] !== '0') v8.setFlagsFromString('--expose-gc');
}

export function collectGarbageEagerly(): void {
  if (process.env['DHT_MANAGER_GC'] === '0') return;
  // The flag set at run time gives `gc` to contexts made after it, not to this one.
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  if (typeof gc !== 'function') return;
  const old = (): number => v8.getHeapSpaceStatistics().find((x) => x.space_name === 'old_space')?.space_used_size ?? 0;
  let after = old();
  const garbageMb = Number(process.env['DHT_MANAGER_GC_MB'] ?? MANAGER_GARBAGE_MB);
  setInterval(() => {
    if (old() - after < garbageMb * 1024 * 1024) return;
    (gc as () => void)();
    after = old();
  }, GARBAGE_CHECK_MS).unref();
}

/**
 * Profiling aid ($DHT_MEM_TRACE=DIR): every `ms` and after every GC, one line of the process's
 * memory (resident anonymous and file-backed, V8's spaces, array buffers, malloc'd external
 * memory) appended to DIR/<pid>.mem, for finding where a peak comes from (docs/BENCHMARKS.md).
 */
export function traceMemory(ms = 5): void {
  const dir = process.env['DHT_MEM_TRACE'];
  if (!dir) return;
  const file = `${dir}/${process.pid}.mem`;
  const t0 = Date.now();
  const kb = (s: string, f: string): number => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
  const sample = (why: string): void => {
    const st = readFileSync('/proc/self/status', 'utf8');
    const m = process.memoryUsage();
    const spaces = v8.getHeapSpaceStatistics().map((s) => `${s.space_name.replace('_space', '')}=${(s.space_size / 1048576).toFixed(1)}/${(s.space_used_size / 1048576).toFixed(1)}`).join(' ');
    appendFileSync(file, `${Date.now() - t0} ${why} rss=${(kb(st, 'VmRSS') / 1024).toFixed(1)} hwm=${(kb(st, 'VmHWM') / 1024).toFixed(1)} anon=${(kb(st, 'RssAnon') / 1024).toFixed(1)} file=${(kb(st, 'RssFile') / 1024).toFixed(1)} heapTotal=${(m.heapTotal / 1048576).toFixed(1)} heapUsed=${(m.heapUsed / 1048576).toFixed(1)} ext=${(m.external / 1048576).toFixed(1)} ab=${(m.arrayBuffers / 1048576).toFixed(1)} ${spaces}\n`);
  };
  setInterval(() => sample('tick'), ms).unref();
  // A heap snapshot on demand (it collects garbage first): what is live, by constructor.
  process.on('SIGUSR2', () => v8.writeHeapSnapshot(`${dir}/${process.pid}-${Date.now() - t0}.heapsnapshot`));
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) sample(`gc${((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? ''}`);
  }).observe({ entryTypes: ['gc'] });
}

/**
 * Experiments: $DHT_V8_FLAGS (e.g. "--optimize-for-size") given to V8 before anything else runs;
 * the manager also reads $DHT_MANAGER_V8_FLAGS (`name`), which the peers it is tested with ignore.
 */
export function extraV8Flags(name = 'DHT_V8_FLAGS'): void {
  const flags = process.env[name];
  if (flags) v8.setFlagsFromString(flags);
}
