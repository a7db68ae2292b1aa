// What an option costs a setup: the same setup run with and without it, alternated round by round
// so that the machine's load hits every variant alike, and compared as medians within one run.
// Used for keyed mode (--key-file: goal ≤ +15 %).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { System, ask, BULK_MS } from '../src/scenario/system.js';
import { median } from './floor.js';
import { traffic } from './status.js';

export interface Variant {
  name: string;
  /** Arguments for every process; `dir` is a scratch directory of this variant's own. */
  args: (dir: string, process: string) => string[];
  /** The arguments are the peers' only (the manager has no such option). */
  peersOnly?: boolean;
}

export interface VariantCost {
  name: string;
  /** Median of the leader's `setup-dht: done in` over the rounds. */
  setupMs: number;
  /** Median CPU of all peers during the setup (both ends of every datagram). */
  cpuMs: number;
  /** setupMs and cpuMs divided by the first variant's (the baseline). */
  setupRatio: number;
  cpuRatio: number;
  rounds: number;
}

/**
 * Variants for the benchmark: plain (store batches of up to 60 KB between processes of one
 * machine), plain with 1,400-byte batches as on a LAN, and keyed mode with a fresh key (which
 * keeps 1,400-byte batches: crypto/seal.ts refuses larger sealed datagrams). The log's cost: bench/log-cost.ts.
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

/** Each variant's median setup time and CPU for `rounds` setups of n peers on one year's file. */
export async function variantCosts(dataDir: string, year: number, n: number, variants: Variant[], rounds: number): Promise<VariantCost[]> {
  const samples = new Map<string, { ms: number[]; cpu: number[] }>(variants.map((v) => [v.name, { ms: [], cpu: [] }]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither variant always runs on a warmer (or busier) machine.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const one = await oneSetup(dataDir, year, n, v);
      samples.get(v.name)!.ms.push(one.ms);
      samples.get(v.name)!.cpu.push(one.cpuMs);
    }
  }
  const base = samples.get(variants[0]!.name)!;
  return variants.map((v) => {
    const s = samples.get(v.name)!;
    const setupMs = median(s.ms);
    const cpuMs = median(s.cpu);
    return { name: v.name, setupMs, cpuMs, setupRatio: setupMs / median(base.ms), cpuRatio: cpuMs / median(base.cpu), rounds };
  });
}

async function oneSetup(dataDir: string, year: number, n: number, v: Variant): Promise<{ ms: number; cpuMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringdht-variant-'));
  // Every process gets the variant's arguments; the key file is written once and shared.
  const shared = v.args(dir, 'manager');
  const system = await System.start({ dataDir, trace: 'off', echo: false, managerArgs: v.peersOnly ? [] : shared, peerArgs: v.peersOnly ? shared : sharedPeerArgs(dir, shared) });
  try {
    const names = Array.from({ length: n }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const before = await traffic(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${year}`, /^setup-dht: done in /, BULK_MS);
    const ms = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    const after = await traffic(system, names);
    const cpuMs = names.reduce((a, k) => a + after.get(k)!.cpuMs - before.get(k)!.cpuMs, 0);
    return { ms, cpuMs };
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
