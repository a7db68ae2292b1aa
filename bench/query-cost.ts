// `node dist/bench/query-cost.js [--n N] [--queries Q] [--queriers K] [--data-dir DIR]`: what one query
// costs. One setup of 1996, then K Free peers (default 1) each type Q queries (half present, half absent) in chunks; the
// datagrams every peer sent and the CPU every process used (peers from `status`, the manager and
// this driver from /proc) are read before and after, and printed per query.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { System, ask, parseCounts, BULK_MS } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { loadDatasetSync } from '../src/data/loader.js';
import { eventIdOf } from '../src/data/record.js';
import { traffic } from './status.js';

/** CPU of a process in ms, user and system, from /proc (Linux). */
function procCpu(pid: number | undefined): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: (Number(f[11]) * 1000) / 100, sys: (Number(f[12]) * 1000) / 100 }; // utime, stime in clock ticks (100 Hz)
}

async function main(): Promise<void> {
  const v = parseArgs({ options: { n: { type: 'string', default: '5' }, queries: { type: 'string', default: '2000' }, queriers: { type: 'string', default: '1' }, 'data-dir': { type: 'string' } } }).values;
  const dir = resolveDataDir(v['data-dir']).dir;
  const n = Number(v.n);
  const k = Number(v.queriers);
  const q = Number(v.queries) * k;
  const present = loadDatasetSync(dir, 1996).records.map((r) => eventIdOf(r));
  const system = await System.start({ dataDir: dir, trace: 'off', echo: false, peerArgs: ['--window', '64'] });
  try {
    const names = Array.from({ length: n + k }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} 1996`, /^setup-dht: done in /, BULK_MS);
    const ring = parseCounts(lines).map((c) => c.name);
    const free = names.filter((x) => !ring.includes(x));
    const before = await traffic(system, names);
    const pids = [system.manager.pid, ...names.map((k) => system.peer(k).pid)];
    const c0 = pids.map(procCpu);
    const m0 = procCpu(system.manager.pid);
    const d0 = process.cpuUsage();
    const t0 = performance.now();
    let printed = 0;
    await Promise.all(free.map(async (name, qi) => {
      const p = system.peer(name);
      for (let start = 0; start < q / k; start += 500) {
        const cmds: string[] = [];
        for (let i = start; i < Math.min(q / k, start + 500); i++) cmds.push(`query-dht ${name} ${i % 2 === 0 ? present[(i * 7919 + qi * 104729) % present.length] : 90_000_000 + i}`);
        p.send(cmds.join('\n'));
        for (let i = 0; i < cmds.length; i++) printed += (await p.waitForLines(/^query-dht: (answered in |no answer)/, BULK_MS)).length;
      }
    }));
    const wall = performance.now() - t0;
    const d = process.cpuUsage(d0);
    const m1 = procCpu(system.manager.pid);
    const c1 = pids.map(procCpu);
    const user = c1.reduce((a, c, i) => a + c.user - c0[i]!.user, 0);
    const sys = c1.reduce((a, c, i) => a + c.sys - c0[i]!.sys, 0);
    const after = await traffic(system, names);
    const dg = names.reduce((a, k) => a + after.get(k)!.datagrams - before.get(k)!.datagrams, 0);
    const per = (x: number): string => `${((x * 1000) / q).toFixed(0)} µs`;
    console.log(`${q} queries (${k} × ${q / k}), n ${n}: ${(q / (wall / 1000)).toFixed(0)} queries/s; ${(dg / q).toFixed(2)} peer datagrams per query (+ the manager's answer); ` +
      `${(printed / q).toFixed(1)} lines read per query`);
    console.log(`CPU per query: querier${k > 1 ? 's' : ''} ${per(free.reduce((a, x) => a + after.get(x)!.cpuMs - before.get(x)!.cpuMs, 0))}, ring peers ${per(ring.reduce((a, k) => a + after.get(k)!.cpuMs - before.get(k)!.cpuMs, 0))}, ` +
      `manager ${per(m1.user + m1.sys - m0.user - m0.sys)} (system ${per(m1.sys - m0.sys)}), driver ${per((d.user + d.system) / 1000)}`);
    console.log(`all programs: user ${per(user)}, system (kernel) ${per(sys)} per query`);
    for (const pr of system.all()) pr.send('quit');
  } finally {
    system.killAll();
    await Promise.all(system.all().map((pr) => pr.exited));
  }
}

main().catch((e: Error) => { console.error(e.message); process.exitCode = 1; });
