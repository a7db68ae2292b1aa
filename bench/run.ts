// `npm run bench [-- --quick]`: the real programs over real UDP on loopback, each figure beside
// a floor measured in the same run. Prints a table, writes bench/out/results.json and
// bench/out/setup.svg (ignored by git: a run must not overwrite the figure docs/BENCHMARKS.md quotes).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSynthetic, toCsv } from '../src/data/synthetic.js';
import { eventIdOf } from '../src/data/record.js';
import { loadDatasetSync } from '../src/data/loader.js';
import { nodeOf, positionOf, tableSize } from '../src/data/hash.js';
import { jsonStringBytes, toLine } from '../src/data/line.js';
import { System, ask, parseCounts, repoRoot, BULK_MS } from '../src/scenario/system.js';
import { findDatasetFile } from '../src/data/csv.js';
import { DATA_DIR_RULE, resolveDataDir } from '../src/data/dirs.js';
import { loopbackFloor, median, parseFloorMs, percentile } from './floor.js';
import { chainFloor } from './chain-floor.js';
import { DEFAULT_QUERIES_IN_FLIGHT } from '../src/net/options.js';
import { costPlot, setupPlot } from './plot.js';
import { traffic } from './status.js';
import { standardVariants, variantCosts, type VariantCost } from './variants.js';
import { measureLogCost } from './log-cost.js';

const USAGE = `usage: npm run bench [-- --quick] [--data-dir DIR]
  Measures setup, rebuild and query figures of the real programs over loopback UDP, with floors.
  --quick     small configuration, about a minute on a quiet machine
  --local-payload BYTES  passed to every peer: the size of store batches when the whole ring is on
              this machine (default: dht-peer's; 0 = 1,400-byte batches as on a LAN). The floors
              stay those of 1,400-byte datagrams either way
  --only ROWS run only these setups, e.g. 'synthetic 1000k:64' or '1996:5,1996:16' (dataset:n, comma-separated;
              no option-cost or log-cost rounds): for one long row, such as the full run's n = 64
  --data-dir  where details-1996.csv is (default: $DHT_DATA_DIR, else ./data if it exists, else
              ../shared/data beside the checkout if it exists; the same rule as dht-peer's)
  Writes bench/out/results.json, bench/out/setup.svg and bench/out/cost.svg (CPU per record-hop against n and ℓ).`;

interface SetupFigure { dataset: string; records: number; stored: number; n: number; ms: number; recordsPerSec: number; parseFloorMs: number; netFloorMs: number; floorMs: number; ratio: number; datagrams: number; bytes: number; minRecordHops: number; minBytes: number; leaderRssMb: number; memberRssMb: number; managerRssMb: number | null; cpuMs: number; usPerDatagram: number; usPerRecordHop: number }
interface RebuildFigure { op: 'leave' | 'join'; n: number; ms: number }
interface QueryFigure {
  dataset: string; n: number; queriers: number; queries: number; p50ms: number; p99ms: number; perSec: number; meanIdSeq: number; floorRatio: number;
  /** The manager's peak RSS once the queries are answered (a setup's row has it after the setup only). */
  managerRssMb?: number | null;
  /** Queries/s of each untimed warm-up burst (QUERY_WARMUP per querier), in order. */
  warmup: number[];
}

const PAYLOAD = 1400;
const QUERY_CHUNK = 500;
/** Untimed queries per querier in each warm-up burst before the timed ones (measureQueries). */
const QUERY_WARMUP = 1000;
/** The warm-up ends when two bursts in a row are no more than this much faster than the best before them… */
const WARM_GAIN = 1.05;
/** …or after this many bursts, or after the burst that takes the warm-up past this long (a slow row, e.g. n = 16). */
const WARM_MAX_BURSTS = 8;
const WARM_MAX_MS = 10_000;

async function main(): Promise<number> {
  let v;
  try {
    v = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'data-dir': { type: 'string' }, 'local-payload': { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', default: false } } }).values;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) return console.log(USAGE), 0;
  const quick = v.quick;
  const only = v.only === undefined ? null : new Set(v.only.split(',').map((x) => x.trim()));
  const peerArgs = ['--window', '64', ...(v['local-payload'] !== undefined ? ['--local-payload', v['local-payload']] : [])];
  const root = repoRoot();
  const work = path.join(root, '.tmp', 'bench-data');
  const realDir = findRealData(v['data-dir']);
  const cpus = os.cpus().length;
  console.log(`bench: ${quick ? 'quick' : 'full'} run on ${cpus} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; peers ${peerArgs.join(' ')}`);
  // Before the benchmark starts anything: load that is someone else's. The figures of a loaded
  // machine are slower by an unknown factor, so they are flagged, in the output and in the JSON.
  const loadBefore = os.loadavg()[0]!;
  const warnings: string[] = [];
  if (loadBefore > cpus) {
    warnings.push(`the machine was loaded when the run started (1-minute load average ${loadBefore.toFixed(2)} on ${cpus} cores): ` +
      'figures are slower than on an idle machine; do not compare them with other runs');
    console.log(`bench: WARNING: ${warnings[0]}`);
  }

  const net = await loopbackFloor(PAYLOAD, quick ? 20_000 : 100_000);
  console.log(`floor: loopback ${Math.round(net.perSecond).toLocaleString()} datagrams/s of ${PAYLOAD} B between two processes (${net.received}/${net.sent} received)`);
  // What the queries are bound by: ten bare processes passing each datagram on once received,
  // as many chains in flight as the bench's queriers run queries (4 × --queries-in-flight 16).
  const chain = await chainFloor(10, 4 * DEFAULT_QUERIES_IN_FLIGHT, quick ? 1 : 2);
  console.log(`floor: chained ${Math.round(chain.perSecond).toLocaleString()} datagrams/s among ${chain.procs} bare processes, ${chain.chains} chains in flight = ${Math.round(chain.perSecond / 6).toLocaleString()} six-datagram chains/s (a query is ~6 chained datagrams)`);

  const sets: { label: string; dir: string; year: number; sizes: number[] }[] = [];
  if (realDir.file) sets.push({ label: '1996', dir: realDir.dir, year: 1996, sizes: [5, 16] });
  else console.log(`bench: no details-1996.csv in ${realDir.dir}; the 1996 figures are skipped (data directory: ${DATA_DIR_RULE})`);
  for (const count of quick ? [100_000] : [100_000, 1_000_000]) {
    sets.push({ label: `synthetic ${count / 1000}k`, dir: synthetic(work, count), year: 2000, sizes: quick ? [5] : count >= 1_000_000 ? [5, 16, 64] : [5, 16] });
  }

  const setups: SetupFigure[] = [];
  const rebuilds: RebuildFigure[] = [];
  const queries: QueryFigure[] = [];
  for (const set of sets) {
    if (only && !set.sizes.some((n) => only.has(`${set.label}:${n}`))) continue;
    const parse = parseFloorMs(set.dir, set.year);
    const data = loadDatasetSync(set.dir, set.year).records;
    for (const n of set.sizes) {
      if (only && !only.has(`${set.label}:${n}`)) continue;
      const withQueries = set.label === '1996' || (quick && n === 5);
      const r = await runSystem(set, n, parse.ms, net.perSecond, peerArgs, data, withQueries ? (quick ? 1000 : 2500) : 0, set.label === '1996' && n === 5);
      setups.push(r.setup);
      rebuilds.push(...r.rebuilds);
      if (r.query) queries.push(r.query);
      printSetup(r.setup);
    }
  }
  const variants: VariantCost[] = [];
  if (realDir.file && !only) {
    variants.push(...await variantCosts(realDir.dir, 1996, 5, standardVariants(), quick ? 5 : 9));
    for (const c of variants) {
      console.log(`option cost: 1996 n 5 ${c.name.padEnd(20)} setup ${c.setupMs.toFixed(1)} ms (×${c.setupRatio.toFixed(2)}), ` +
        `peer CPU ${Math.round(c.cpuMs)} ms (×${c.cpuRatio.toFixed(2)}), median of ${c.rounds} alternated rounds`);
    }
  }
  for (const r of rebuilds) console.log(`rebuild: ${r.op} on the 1996 DHT (n ${r.n}) took ${r.ms.toFixed(1)} ms`);
  for (const q of queries) {
    console.log(`queries: ${q.dataset}, n ${q.n}, ${q.queriers} querying peers, ${q.queries} queries: p50 ${q.p50ms.toFixed(2)} ms, p99 ${q.p99ms.toFixed(2)} ms, ` +
      `${Math.round(q.perSec).toLocaleString()} queries/s = 1/${q.floorRatio.toFixed(1)} of the loopback floor, ${(q.perSec / (chain.perSecond / 6)).toFixed(2)} of the chained floor's chains, mean id-seq length ${q.meanIdSeq.toFixed(2)}; ` +
      `manager peak RSS ${q.managerRssMb ?? '?'} MB; after warm-up bursts of ${q.warmup.map((r) => Math.round(r).toLocaleString()).join(', ')} queries/s`);
  }
  const logCost = sets.length > 0 && !only ? await measureLogCost(sets[0]!, quick) : null; // 1996 when present: what --log costs
  const loadAfter = os.loadavg()[0]!;
  const results = {
    when: new Date().toISOString(), quick, warnings,
    machine: { cpus, model: os.cpus()[0]?.model, node: process.version, loadavg1mBefore: loadBefore, loadavg1mAfter: loadAfter }, peerArgs,
    floors: { loopback: net, chained: chain }, setups, rebuilds, queries, variants, logCost,
  };
  const out = path.join(root, 'bench', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(out, 'setup.svg'), setupPlot(setups));
  writeFileSync(path.join(out, 'cost.svg'), costPlot(setups));
  console.log('bench: wrote bench/out/results.json, bench/out/setup.svg and bench/out/cost.svg');
  for (const w of warnings) console.log(`bench: WARNING: ${w}`);
  return 0;
}

function printSetup(s: SetupFigure): void {
  console.log(`setup: ${s.dataset.padEnd(15)} ℓ ${String(s.records).padStart(9)}  n ${String(s.n).padStart(2)}  ${s.ms.toFixed(1).padStart(8)} ms  ` +
    `${s.stored === s.records ? 'all stored' : `STORED ${s.stored}`}  ` +
    `${Math.round(s.recordsPerSec).toLocaleString().padStart(10)} records/s  floor ${s.floorMs.toFixed(1)} ms (parse ${s.parseFloorMs.toFixed(1)} + net ${s.netFloorMs.toFixed(1)})  ` +
    `ratio ${s.ratio.toFixed(2)}  datagrams ${s.datagrams} (bytes ${(s.bytes / 1e6).toFixed(1)} MB; minimum ${(s.minBytes / 1e6).toFixed(1)} MB in ${s.minRecordHops} record-hops)  ` +
    `RSS leader ${s.leaderRssMb} MB, member ${s.memberRssMb} MB, manager ${s.managerRssMb ?? '?'} MB  ` +
    `CPU ${Math.round(s.cpuMs)} ms = ${s.usPerDatagram.toFixed(1)} µs/datagram, ${s.usPerRecordHop.toFixed(2)} µs/record-hop`);
}

/** Start a system of n members (+4 Free queriers when queries are measured), set up, measure, tear down. */
async function runSystem(set: { label: string; dir: string; year: number }, n: number, parseMs: number, netRate: number, peerArgs: string[],
  records: string[][], queryCount: number, rebuild: boolean): Promise<{ setup: SetupFigure; rebuilds: RebuildFigure[]; query?: QueryFigure }> {
  // A million records over 64 hops on a shared 2-core machine can take minutes: the manager's
  // wait for dht-complete (60 s by default) and the driver's wait are stretched to 30 minutes.
  const long = records.length * n >= 10_000_000;
  const bulkMs = long ? 30 * 60_000 : BULK_MS;
  const system = await System.start({ dataDir: set.dir, trace: 'off', echo: false, peerArgs, ...(long ? { managerArgs: ['--wait-timeout', '1800'] } : {}) });
  try {
    const queriers = queryCount > 0 || rebuild ? 4 : 0;
    const names = Array.from({ length: n + queriers }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const before = await traffic(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${set.year}`, /^setup-dht: done in /, bulkMs);
    const ms = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    const counts = parseCounts(lines);
    const ring = counts.map((c) => c.name);
    // The counts the leader printed, summed: every record of the file must be held by exactly one node.
    const stored = counts.reduce((a, c) => a + c.count, 0);
    if (stored !== records.length) console.log(`bench: WARNING: ${set.label} n ${n}: the nodes hold ${stored} records, the file has ${records.length}`);
    const free = names.filter((k) => !ring.includes(k));
    const after = await traffic(system, names);
    const s = tableSize(records.length);
    let hops = 0;
    let minBytes = 0;
    for (const r of records) {
      const id = nodeOf(positionOf(eventIdOf(r), s), n);
      hops += id;
      minBytes += id * (jsonStringBytes(toLine(r)) + 1);
    }
    const netFloorMs = (Math.ceil(minBytes / (PAYLOAD - 80)) / netRate) * 1000;
    const members = ring.filter((k) => k !== 'peer1');
    // CPU of every peer (the manager's share of a setup is a few messages): both ends of each datagram.
    const cpuMs = sum(names, (k) => after.get(k)!.cpuMs - before.get(k)!.cpuMs);
    const setup: SetupFigure = {
      dataset: set.label, records: records.length, stored, n, ms, recordsPerSec: records.length / (ms / 1000),
      parseFloorMs: parseMs, netFloorMs, floorMs: parseMs + netFloorMs, ratio: ms / (parseMs + netFloorMs),
      datagrams: sum(names, (k) => after.get(k)!.datagrams - before.get(k)!.datagrams),
      bytes: sum(names, (k) => after.get(k)!.bytes - before.get(k)!.bytes),
      minRecordHops: hops, minBytes, leaderRssMb: after.get('peer1')!.rssMb, memberRssMb: Math.max(...members.map((k) => after.get(k)!.rssMb)),
      managerRssMb: peakRssMb(system.manager.pid), cpuMs, usPerDatagram: 0, usPerRecordHop: (cpuMs * 1000) / hops,
    };
    setup.usPerDatagram = (cpuMs * 1000) / setup.datagrams;
    const out: { setup: SetupFigure; rebuilds: RebuildFigure[]; query?: QueryFigure } = { setup, rebuilds: [] };
    if (queryCount > 0) out.query = { dataset: set.label, ...(await measureQueries(system, free, records, queryCount, n, netRate)), managerRssMb: peakRssMb(system.manager.pid) };
    if (rebuild) out.rebuilds = await measureRebuilds(system, n, free[0]!);
    return out;
  } finally {
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
}

async function measureRebuilds(system: System, n: number, joiner: string): Promise<RebuildFigure[]> {
  const leaver = 'peer1';
  const leave = await ask(system.peer(leaver), `leave-dht ${leaver}`, /^leave-dht: done in /, BULK_MS);
  const join = await ask(system.peer(joiner), `join-dht ${joiner}`, /^join-dht: done in /, BULK_MS);
  const msOf = (lines: string[]) => Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
  return [{ op: 'leave', n: n - 1, ms: msOf(leave) }, { op: 'join', n, ms: msOf(join) }];
}

/**
 * Several Free peers each type a burst of queries at once; latencies come from the peers' own
 * lines. Untimed bursts warm every process up first: V8 compiles the query path's functions as
 * they get hot, which costs several hundred µs of CPU per query over the first thousands, so a
 * short timed run measured mostly the compiler. One burst of 1,000 per querier was not enough:
 * successive bursts on a quiet machine ran at 3,400, 5,100, 6,800, 7,400, 7,900, 8,400, 8,700 and
 * then ~8,300–8,700 queries/s (docs/BENCHMARKS.md, "Issue 11, eighth round"). So bursts repeat
 * until two in a row are no more than WARM_GAIN faster than the best before them (bounded in
 * bursts and time); the timed figures are the steady state, printed beside the warm-up's rates.
 */
async function measureQueries(system: System, queriers: string[], records: string[][], perPeer: number, n: number, netRate: number): Promise<Omit<QueryFigure, 'dataset'>> {
  const warmup = await warmUp(system, queriers, records, Math.min(perPeer, QUERY_WARMUP));
  const t0 = performance.now();
  const results = await queryBurst(system, queriers, records, perPeer);
  const wall = (performance.now() - t0) / 1000;
  const lat = results.flatMap((r) => r.got);
  const seqs = results.flatMap((r) => r.seqs);
  return { n, queriers: queriers.length, queries: lat.length, p50ms: median(lat), p99ms: percentile(lat, 99), perSec: lat.length / wall, meanIdSeq: seqs.reduce((a, b) => a + b, 0) / seqs.length, floorRatio: netRate / (lat.length / wall), warmup };
}

/** Untimed bursts until the rate stops rising (at most WARM_MAX_BURSTS, or WARM_MAX_MS); each burst's queries/s. */
async function warmUp(system: System, queriers: string[], records: string[][], perPeer: number): Promise<number[]> {
  const rates: number[] = [];
  const start = performance.now();
  let best = 0;
  let flat = 0;
  // Bounded: at most WARM_MAX_BURSTS passes. One burst that happens to be slow (the machine is
  // shared) does not end the warm-up: two in a row that do not beat the best do.
  while (rates.length < WARM_MAX_BURSTS && flat < 2) {
    const t0 = performance.now();
    await queryBurst(system, queriers, records, perPeer, rates.length + 1);
    const rate = (queriers.length * perPeer) / ((performance.now() - t0) / 1000);
    rates.push(rate);
    flat = rate > best * WARM_GAIN ? 0 : flat + 1;
    best = Math.max(best, rate);
    if (performance.now() - start > WARM_MAX_MS) break;
  }
  return rates;
}

/**
 * Each querier types `perPeer` queries (half present, half absent ids), all at once; their answer
 * times and walk lengths. `burst` varies the present ids from one warm-up burst to the next.
 */
async function queryBurst(system: System, queriers: string[], records: string[][], perPeer: number, burst = 0): Promise<{ got: number[]; seqs: number[] }[]> {
  const present = records.map((r) => eventIdOf(r));
  return Promise.all(queriers.map(async (name, qi) => {
    const p = system.peer(name);
    p.mark();
    const got: number[] = [];
    const seqs: number[] = [];
    // In chunks, as a person pasting a long script might (the peer reads stdin with back-pressure).
    for (let start = 0; start < perPeer; start += QUERY_CHUNK) {
      const lines: string[] = [];
      for (let i = start; i < Math.min(perPeer, start + QUERY_CHUNK); i++) {
        const id = i % 2 === 0 ? present[((i + burst * perPeer) * 7919 + qi * 104729) % present.length]! : 90_000_000 + i;
        lines.push(`query-dht ${name} ${id}`);
      }
      p.send(lines.join('\n'));
      for (let i = 0; i < lines.length; i++) {
        const answer = await p.waitForLines(/^query-dht: (answered in |no answer)/, BULK_MS);
        const m = /answered in ([\d.]+) ms/.exec(answer[answer.length - 1]!);
        if (!m) throw new Error(`${name}: ${answer[answer.length - 1]}`);
        got.push(Number(m[1]));
        const seq = answer.find((l) => l.startsWith('id-seq: '));
        if (seq) seqs.push(seq.split(',').length);
      }
    }
    return { got, seqs };
  }));
}

/** Peak RSS of a process from /proc (Linux), or null where there is none. */
function peakRssMb(pid: number | undefined): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

function synthetic(work: string, count: number): string {
  const dir = path.join(work, `synthetic-${count}`);
  const file = path.join(dir, 'details-2000.csv');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, toCsv(generateSynthetic(2000, count, 1)));
  }
  return dir;
}

/** The data directory by the rule every program follows, and its 1996 file if it has one. */
function findRealData(option: string | undefined): { dir: string; file: string | null } {
  const { dir } = resolveDataDir(option);
  return { dir, file: findDatasetFile(dir, 1996) };
}

function sum(keys: string[], f: (k: string) => number): number {
  return keys.reduce((a, k) => a + f(k), 0);
}

main().then((code) => { process.exitCode = code; }, (e: Error) => { console.error(`bench: ${e.message}`); process.exitCode = 1; });
