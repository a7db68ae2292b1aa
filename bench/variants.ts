// What an option costs a setup: the same setup run with and without it, alternated round by round
// so that the machine's load hits every variant alike, and compared as medians within one run.
// Used for keyed mode (--key-file: goal ≤ +15 %). Run alone for more rounds and every round's
// figures: `node dist/bench/variants.js [--rounds N] [--n N] [--year Y] [--data-dir DIR] [--warm] [--no-lan] [--base DIR] [--compress [--lan]]`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { System, ask, repoRoot, BULK_MS, type Command } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { median } from './floor.js';
import { traffic } from './status.js';

export interface Variant {
  name: string;
  /** Arguments for every process; `dir` is a scratch directory of this variant's own. */
  args: (dir: string, process: string) => string[];
  /** The arguments are the peers' only (the manager has no such option). */
  peersOnly?: boolean;
  /** The peers' extra arguments beside the shared ones (an option the manager has not). */
  peerExtra?: string[];
  /** Run the programs of another build: a copy of an older `dist/` inside this checkout (A/B of builds). */
  dist?: string;
}

export interface VariantCost {
  name: string;
  /** Median of the leader's `setup-dht: done in` over the rounds. */
  setupMs: number;
  /** Median CPU of all peers during the setup (both ends of every datagram). */
  cpuMs: number;
  /**
   * Median datagrams the peers sent during the setup. More than the plain setup's means
   * retransmissions, or more acks and liveness messages in a longer setup (a store batch is one
   * datagram in both modes: sealed, a 60 KB local batch is 60,043 bytes, within the 65,043 a
   * receiver takes), which a slower receiver provokes.
   */
  datagrams: number;
  /** setupMs, cpuMs and datagrams divided by the first variant's (the baseline). */
  setupRatio: number;
  cpuRatio: number;
  datagramRatio: number;
  rounds: number;
  /** Every round's figures, in the order run. */
  samples: Sample[];
}

export interface Sample { ms: number; cpuMs: number; datagrams: number }

/**
 * Variants for the benchmark: plain (store batches of up to 60 KB between processes of one
 * machine), plain with 1,400-byte batches as on a LAN, and keyed mode with a fresh key (with the
 * same large batches as plain: the fair comparison is against the first row). The log's cost:
 * bench/log-cost.ts.
 */
export function standardVariants(): Variant[] {
  return [
    { name: 'default', args: () => [] },
    { name: '1,400 B batches', args: () => ['--local-payload', '0'], peersOnly: true },
    {
      name: 'keyed (--key-file)',
      args: (dir) => {
        const file = path.join(dir, 'cluster.key');
        writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'w' });
        return ['--key-file', file];
      },
    },
  ];
}

/**
 * Compressed store batches (`dht-peer --compress`, on by default in keyed mode only): plain and
 * keyed as they are by default, then each with the other setting, so one run compares all four.
 */
export function compressVariants(): Variant[] {
  const [plain, , keyed] = standardVariants() as [Variant, Variant, Variant];
  return [
    { ...plain, name: 'plain' },
    { ...keyed, name: 'keyed (compressed)' },
    { ...plain, name: 'plain --compress on', peerExtra: ['--compress', 'on'] },
    { ...keyed, name: 'keyed --compress off', peerExtra: ['--compress', 'off'] },
  ];
}

/** Each variant's median setup time and CPU for `rounds` setups of n peers on one year's file. */
export async function variantCosts(dataDir: string, year: number, n: number, variants: Variant[], rounds: number, onSample?: (round: number, name: string, s: Sample) => void, warm = false): Promise<VariantCost[]> {
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither variant always runs on a warmer (or busier) machine.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const one = await oneSetup(dataDir, year, n, v, warm);
      samples.get(v.name)!.push(one);
      onSample?.(r, v.name, one);
    }
  }
  const medians = (xs: Sample[]): Sample => ({ ms: median(xs.map((x) => x.ms)), cpuMs: median(xs.map((x) => x.cpuMs)), datagrams: median(xs.map((x) => x.datagrams)) });
  const base = medians(samples.get(variants[0]!.name)!);
  return variants.map((v) => {
    const m = medians(samples.get(v.name)!);
    return {
      name: v.name, setupMs: m.ms, cpuMs: m.cpuMs, datagrams: m.datagrams,
      setupRatio: m.ms / base.ms, cpuRatio: m.cpuMs / base.cpuMs, datagramRatio: m.datagrams / base.datagrams,
      rounds, samples: samples.get(v.name)!,
    };
  });
}

/**
 * One setup's figures. `warm`: the processes first do one untimed setup and teardown, so the
 * timed one is a long-lived ring's next setup, not the first a process ever runs (which also pays
 * for V8 compiling the code it runs, node:crypto's included, in the middle of the setup).
 */
async function oneSetup(dataDir: string, year: number, n: number, v: Variant, warm: boolean): Promise<Sample> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringdht-variant-'));
  // Every process gets the variant's arguments; the key file is written once and shared.
  const shared = v.args(dir, 'manager');
  const other = v.dist ? path.resolve(v.dist) : null;
  const ours = path.join(repoRoot(), 'dist');
  const launcher = other ? (_: string, c: Command): Command => ({ cmd: c.cmd, args: c.args.map((a) => (a.startsWith(ours + path.sep) ? other + a.slice(ours.length) : a)) }) : undefined;
  const system = await System.start({ dataDir, trace: 'off', echo: false, ...(launcher ? { launcher } : {}), managerArgs: v.peersOnly ? [] : shared, peerArgs: [...(v.peersOnly ? shared : sharedPeerArgs(dir, shared)), ...(v.peerExtra ?? [])] });
  try {
    const names = Array.from({ length: n }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    if (warm) {
      await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${year}`, /^setup-dht: done in /, BULK_MS);
      await ask(system.peer('peer1'), 'teardown-dht peer1', /^teardown-dht: done in /, BULK_MS);
    }
    const before = await traffic(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${year}`, /^setup-dht: done in /, BULK_MS);
    const ms = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    const after = await traffic(system, names);
    const cpuMs = names.reduce((a, k) => a + after.get(k)!.cpuMs - before.get(k)!.cpuMs, 0);
    const datagrams = names.reduce((a, k) => a + after.get(k)!.datagrams - before.get(k)!.datagrams, 0);
    return { ms, cpuMs, datagrams };
  } finally {
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The peers' arguments: the manager's (the same key file), except that each log is its own file:
 * all peers append to one, which costs the same as one file each and needs no per-peer arguments.
 */
function sharedPeerArgs(dir: string, managerArgs: string[]): string[] {
  return managerArgs[0] === '--log' ? ['--log', path.join(dir, 'peers.jsonl')] : managerArgs;
}

async function main(): Promise<void> {
  const v = parseArgs({ options: { rounds: { type: 'string', default: '7' }, n: { type: 'string', default: '5' }, year: { type: 'string', default: '1996' }, 'data-dir': { type: 'string' }, warm: { type: 'boolean', default: false }, 'no-lan': { type: 'boolean', default: false }, base: { type: 'string' }, compress: { type: 'boolean', default: false }, lan: { type: 'boolean', default: false } } }).values;
  const dataDir = resolveDataDir(v['data-dir']).dir;
  const load = (): string => os.loadavg()[0]!.toFixed(1);
  console.log(`option cost: ${v.year} n ${v.n}, ${v.rounds} alternated rounds${v.warm ? ', each the second setup of its processes (--warm)' : ''}, load ${load()} at the start`);
  // --no-lan: plain and keyed only (the 1,400-byte row is slow and not part of the keyed ratio).
  // --base DIR: plain and keyed of this build and of another (a copy of an older dist/), alternated.
  // --compress: plain and keyed, each with and without compressed store batches.
  // --compress --lan: the same four with 1,400-byte batches, as on a LAN (--local-payload 0).
  const lan = (x: Variant): Variant => (v.lan ? { ...x, name: `${x.name}, LAN`, peerExtra: [...(x.peerExtra ?? []), '--local-payload', '0'] } : x);
  const variants = v.compress ? compressVariants().map(lan) : standardVariants().filter((x) => !((v['no-lan'] || v.base) && x.peersOnly));
  if (v.base) variants.push(...variants.map((x) => ({ ...x, name: `${x.name} (base)`, dist: v.base })));
  const costs = await variantCosts(dataDir, Number(v.year), Number(v.n), variants, Number(v.rounds), (r, name, s) =>
    console.log(`  round ${r + 1} ${name.padEnd(20)} setup ${s.ms.toFixed(1)} ms, peer CPU ${s.cpuMs} ms, ${s.datagrams} datagrams (load ${load()})`), v.warm);
  for (const c of costs) {
    console.log(`${c.name.padEnd(20)} setup ${c.setupMs.toFixed(1)} ms (×${c.setupRatio.toFixed(2)}), peer CPU ${Math.round(c.cpuMs)} ms (×${c.cpuRatio.toFixed(2)}), ` +
      `${c.datagrams} datagrams (×${c.datagramRatio.toFixed(2)}), medians`);
  }
  if (v.compress) {
    const [p, k, pz, kn] = costs as [VariantCost, VariantCost, VariantCost, VariantCost];
    console.log(`keyed / plain: compressed setup ×${(k.setupMs / p.setupMs).toFixed(2)}, peer CPU ×${(k.cpuMs / p.cpuMs).toFixed(2)}; ` +
      `uncompressed setup ×${(kn.setupMs / p.setupMs).toFixed(2)}, peer CPU ×${(kn.cpuMs / p.cpuMs).toFixed(2)}; plain compressed / plain: setup ×${(pz.setupMs / p.setupMs).toFixed(2)}, peer CPU ×${(pz.cpuMs / p.cpuMs).toFixed(2)}`);
  }
  if (v.base) {
    const [p, k, pb, kb] = costs as [VariantCost, VariantCost, VariantCost, VariantCost];
    console.log(`keyed / plain, this build: setup ×${(k.setupMs / p.setupMs).toFixed(2)}, peer CPU ×${(k.cpuMs / p.cpuMs).toFixed(2)}; base build: setup ×${(kb.setupMs / pb.setupMs).toFixed(2)}, peer CPU ×${(kb.cpuMs / pb.cpuMs).toFixed(2)}`);
  }
  console.log(`load ${load()} at the end`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: Error) => { console.error(e.message); process.exitCode = 1; });
}
