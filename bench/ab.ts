// `node dist/bench/ab.js --base DIR [--rounds R] [--n N] [--queries Q] [--queriers K]`: the current
// build against another build of the programs (DIR: a copy of an older `dist/`, placed inside this
// checkout so that it finds node_modules, e.g. .tmp/base/dist), alternated round by round on the
// same machine, compared as medians within this one run. Each round: a 1996 setup of n peers, then
// K Free peers each type Q queries. Also takes env changes per side: --env-a / --env-b "K=V,K=V",
// and extra peer arguments per side: --args-a="--local-payload 0" / --args-b=… (without --base: one build, two settings).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { System, ask, parseCounts, repoRoot, BULK_MS } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { loadDatasetSync } from '../src/data/loader.js';
import { eventIdOf } from '../src/data/record.js';
import { median } from './floor.js';
import { traffic } from './status.js';

interface Round { setupMs: number; setupCpuMs: number; managerCpuMs: number; qps: number; qCpuUs: number; qDatagrams: number; leaderRss: number; memberRss: number; managerRss: number; driverUs: number }

function procStat(pid: number | undefined): { cpuMs: number; hwmMb: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100, hwmMb: hwm ? Math.round(Number(hwm[1]) / 1024) : 0 };
}

function envOf(spec: string | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const kv of (spec ?? '').split(',').filter(Boolean)) {
    const [k, ...v] = kv.split('=');
    env[k!] = v.join('=');
  }
  return env;
}

async function round(dir: string, present: number[], dist: string | null, env: NodeJS.ProcessEnv, extra: string[], n: number, q: number, k: number): Promise<Round> {
  const saved = process.env;
  process.env = env; // the driver hands its environment to every process it starts (peers too: kept until the round ends)
  const root = path.join(repoRoot(), 'dist');
  const system = await System.start({
    dataDir: dir, trace: 'off', echo: false, peerArgs: ['--window', '64', ...extra],
    launcher: (_name, c) => ({ cmd: c.cmd, args: dist ? c.args.map((a) => (a.startsWith(root) ? path.join(dist, a.slice(root.length)) : a)) : c.args }),
  });
  try {
    const names = Array.from({ length: n + k }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const m0 = procStat(system.manager.pid);
    const before = await traffic(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} 1996`, /^setup-dht: done in /, BULK_MS);
    const setupMs = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    const ring = parseCounts(lines).map((c) => c.name);
    const free = names.filter((x) => !ring.includes(x));
    const mid = await traffic(system, names);
    const m1 = procStat(system.manager.pid);
    const d0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(free.map(async (name, qi) => {
      const p = system.peer(name);
      for (let start = 0; start < q; start += 500) {
        const cmds: string[] = [];
        for (let i = start; i < Math.min(q, start + 500); i++) cmds.push(`query-dht ${name} ${i % 2 === 0 ? present[(i * 7919 + qi * 104729) % present.length] : 90_000_000 + i}`);
        p.send(cmds.join('\n'));
        for (let i = 0; i < cmds.length; i++) await p.waitForLines(/^query-dht: (answered in |no answer)/, BULK_MS);
      }
    }));
    const wall = performance.now() - t0;
    const d = process.cpuUsage(d0);
    const m2 = procStat(system.manager.pid);
    const after = await traffic(system, names);
    const cpu = (a: Map<string, { cpuMs: number }>, b: Map<string, { cpuMs: number }>): number => names.reduce((s, x) => s + b.get(x)!.cpuMs - a.get(x)!.cpuMs, 0);
    const sent = names.reduce((s, x) => s + after.get(x)!.datagrams - mid.get(x)!.datagrams, 0);
    const total = q * k;
    return {
      setupMs, setupCpuMs: cpu(before, mid), managerCpuMs: m1.cpuMs - m0.cpuMs, qps: total / (wall / 1000), qDatagrams: sent / total,
      qCpuUs: ((cpu(mid, after) + m2.cpuMs - m1.cpuMs) * 1000) / total, driverUs: ((d.user + d.system) / 1000) * 1000 / total,
      leaderRss: after.get('peer1')!.rssMb, memberRss: Math.max(...ring.filter((x) => x !== 'peer1').map((x) => after.get(x)!.rssMb)), managerRss: m2.hwmMb,
    };
  } finally {
    process.env = saved;
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
}

async function main(): Promise<void> {
  const v = parseArgs({ options: {
    base: { type: 'string' }, rounds: { type: 'string', default: '5' }, n: { type: 'string', default: '5' }, queries: { type: 'string', default: '1000' },
    queriers: { type: 'string', default: '4' }, 'env-a': { type: 'string' }, 'env-b': { type: 'string' }, 'data-dir': { type: 'string' },
    'args-a': { type: 'string' }, 'args-b': { type: 'string' },
  } }).values;
  const dir = resolveDataDir(v['data-dir']).dir;
  const present = loadDatasetSync(dir, 1996).records.map((r) => eventIdOf(r));
  const base = v.base ? path.resolve(v.base) : null;
  const argsOf = (spec: string | undefined): string[] => (spec ?? '').split(' ').filter(Boolean);
  const sides = [{ name: 'A (base)', dist: base, env: envOf(v['env-a']), extra: argsOf(v['args-a']) }, { name: 'B (current)', dist: null, env: envOf(v['env-b']), extra: argsOf(v['args-b']) }];
  const rounds = Number(v.rounds);
  const got = new Map<string, Round[]>(sides.map((s) => [s.name, []]));
  console.log(`ab: load average ${os.loadavg()[0]!.toFixed(2)} at the start`);
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
      got.get(s.name)!.push(await round(dir, present, s.dist, s.env, s.extra, Number(v.n), Number(v.queries), Number(v.queriers)));
    }
  }
  const keys: (keyof Round)[] = ['setupMs', 'setupCpuMs', 'managerCpuMs', 'qps', 'qCpuUs', 'qDatagrams', 'driverUs', 'leaderRss', 'memberRss', 'managerRss'];
  const med = (name: string, key: keyof Round): number => median(got.get(name)!.map((x) => x[key]));
  console.log(`${'median'.padEnd(14)}${sides.map((s) => s.name.padStart(14)).join('')}       B/A`);
  for (const key of keys) {
    const a = med(sides[0]!.name, key);
    const b = med(sides[1]!.name, key);
    console.log(`${key.padEnd(14)}${a.toFixed(1).padStart(14)}${b.toFixed(1).padStart(14)}${(b / a).toFixed(2).padStart(10)}`);
  }
  console.log(`ab: ${rounds} rounds each, n ${v.n}, ${v.queriers} × ${v.queries} queries; load average ${os.loadavg()[0]!.toFixed(2)} at the end`);
}

main().catch((e: Error) => { console.error(e.stack); process.exitCode = 1; });
