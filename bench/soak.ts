// `npm run bench:soak [-- --cycles N] [--base DIR] [--env K=V,…] [--local-payload B]`: one manager
// and four peers as real processes do N setup/teardown cycles of the 1996 DHT (n = 3); every 10
// cycles each process's resident memory is read, and at the end the growth from cycle 10 to the
// last, each process's peak (VmHWM) and CPU, and the wall time are printed and written to
// bench/out/soak.json. A bounded process stays flat; one that keeps something per cycle grows.
// peer1 leads every setup; the manager picks the two other members among peer2–peer4 each time.
// --base DIR runs another build's programs (a copy of an older `dist/` inside this checkout, as for
// ab.js); --env sets environment variables for the programs (e.g. DHT_SEMI_SPACE_MB=0).
// (The deterministic check of the same property is test/sim/soak.test.ts.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { System, ask, BULK_MS, repoRoot } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { findDatasetFile } from '../src/data/csv.js';

const PEERS = ['peer1', 'peer2', 'peer3', 'peer4'];

/** Current (VmRSS) or peak (VmHWM) resident memory of a process in MB to 0.1 (Linux /proc), or null. */
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

/** CPU (user + system) a process has used so far, in ms (Linux /proc), or null. */
function cpuMs(pid: number | undefined): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const v = parseArgs({ options: {
    cycles: { type: 'string', default: '100' }, 'data-dir': { type: 'string' }, 'local-payload': { type: 'string' },
    base: { type: 'string' }, env: { type: 'string' },
  } }).values;
  const cycles = Math.max(10, Math.min(1000, Number(v.cycles) || 100));
  const { dir } = resolveDataDir(v['data-dir']);
  if (!findDatasetFile(dir, 1996)) {
    console.log(`soak: no details-1996.csv in ${dir}; nothing measured`);
    return 0;
  }
  // --local-payload: passed to every peer (0 = 1,400-byte store batches, as on a LAN).
  const peerArgs = v['local-payload'] !== undefined ? ['--local-payload', v['local-payload']] : [];
  const root = path.join(repoRoot(), 'dist');
  const base = v.base === undefined ? null : path.resolve(v.base);
  const saved = process.env;
  process.env = { ...saved };
  for (const kv of (v.env ?? '').split(',').filter(Boolean)) {
    const [k, ...rest] = kv.split('=');
    process.env[k!] = rest.join('=');
  }
  const system = await System.start({
    dataDir: dir, trace: 'off', echo: false, peerArgs,
    ...(base ? { launcher: (_name: string, c: { cmd: string; args: string[] }) => ({ cmd: c.cmd, args: c.args.map((a) => (a.startsWith(root) ? path.join(base, a.slice(root.length)) : a)) }) } : {}),
  });
  const names = ['manager', ...PEERS];
  const pids = (): (number | undefined)[] => [system.manager.pid, ...PEERS.map((name) => system.peer(name).pid)];
  let peak: (number | null)[] = [];
  let cpu: (number | null)[] = [];
  const t0 = performance.now();
  const samples: { cycle: number; rss: Record<string, number | null> }[] = [];
  try {
    await system.addPeers(PEERS);
    for (let c = 1; c <= cycles; c++) {
      await ask(system.peer('peer1'), 'setup-dht peer1 3 1996', /^setup-dht: done in /, BULK_MS);
      await ask(system.peer('peer1'), 'teardown-dht peer1', /^teardown-dht: done in /, BULK_MS);
      if (c % 10 === 0) {
        const rss: Record<string, number | null> = { manager: rssMb(system.manager.pid) };
        for (const name of PEERS) rss[name] = rssMb(system.peer(name).pid);
        samples.push({ cycle: c, rss });
        peak = pids().map((pid) => rssMb(pid, 'VmHWM'));
        cpu = pids().map(cpuMs);
        console.log(`soak: cycle ${c}: RSS ${Object.entries(rss).map(([k, mb]) => `${k} ${mb ?? '?'} MB`).join(', ')} (peak so far ${peak.map((x) => x ?? '?').join(' / ')} MB)`);
      }
    }
  } finally {
    process.env = saved; // kept until here: the peers are started by addPeers, after the manager
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const growth = Object.fromEntries(Object.keys(first.rss).map((k) => [k, Math.round(((last.rss[k] ?? 0) - (first.rss[k] ?? 0)) * 10) / 10]));
  const wallMs = Math.round(performance.now() - t0);
  console.log(`soak: growth from cycle ${first.cycle} to ${last.cycle}: ${Object.entries(growth).map(([k, mb]) => `${k} ${mb >= 0 ? '+' : ''}${mb} MB`).join(', ')}`);
  const peaks = Object.fromEntries(names.map((k, i) => [k, peak[i] ?? null]));
  const cpus = Object.fromEntries(names.map((k, i) => [k, cpu[i] ?? null]));
  const memberPeak = Math.max(...PEERS.slice(1).map((k) => peaks[k] ?? 0));
  const peerCpu = PEERS.reduce((a, k) => a + (cpus[k] ?? 0), 0);
  console.log(`soak: peak RSS manager ${peaks['manager'] ?? '?'} MB, leader ${peaks['peer1'] ?? '?'} MB, members up to ${memberPeak} MB; ` +
    `CPU peers ${Math.round(peerCpu)} ms (leader ${cpus['peer1'] ?? '?'}), manager ${cpus['manager'] ?? '?'} ms; ${cycles} cycles in ${wallMs} ms`);
  const out = path.join(repoRoot(), 'bench', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'soak.json'), JSON.stringify({ when: new Date().toISOString(), cycles, base: v.base ?? null, env: v.env ?? null, samples, growth, peaks, memberPeak, cpuMs: cpus, peerCpuMs: peerCpu, wallMs }, null, 2) + '\n');
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: Error) => { console.error(`soak: ${e.message}`); process.exitCode = 1; });
