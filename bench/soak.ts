// `npm run bench:soak [-- --cycles N]`: one manager and four peers as real processes do N
// setup/teardown cycles of the 1996 DHT (n = 3); every 10 cycles each process's resident memory
// is read, and at the end the growth from cycle 10 to the last is printed and written to
// bench/out/soak.json. A bounded process stays flat; one that keeps something per cycle grows.
// (The deterministic check of the same property is test/sim/soak.test.ts.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { System, ask, BULK_MS, repoRoot } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { findDatasetFile } from '../src/data/csv.js';

const PEERS = ['peer1', 'peer2', 'peer3', 'peer4'];

/** Current (VmRSS) or peak (VmHWM) resident memory of a process in MB (Linux /proc), or null. */
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const v = parseArgs({ options: { cycles: { type: 'string', default: '100' }, 'data-dir': { type: 'string' }, 'local-payload': { type: 'string' } } }).values;
  const cycles = Math.max(10, Math.min(1000, Number(v.cycles) || 100));
  const { dir } = resolveDataDir(v['data-dir']);
  if (!findDatasetFile(dir, 1996)) {
    console.log(`soak: no details-1996.csv in ${dir}; nothing measured`);
    return 0;
  }
  // --local-payload: passed to every peer (0 = 1,400-byte store batches, as on a LAN).
  const peerArgs = v['local-payload'] !== undefined ? ['--local-payload', v['local-payload']] : [];
  const system = await System.start({ dataDir: dir, trace: 'off', echo: false, peerArgs });
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
        const peak = [system.manager.pid, ...PEERS.map((name) => system.peer(name).pid)].map((pid) => rssMb(pid, 'VmHWM') ?? '?');
        console.log(`soak: cycle ${c}: RSS ${Object.entries(rss).map(([k, mb]) => `${k} ${mb ?? '?'} MB`).join(', ')} (peak so far ${peak.join(' / ')} MB)`);
      }
    }
  } finally {
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
  }
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const growth = Object.fromEntries(Object.keys(first.rss).map((k) => [k, (last.rss[k] ?? 0) - (first.rss[k] ?? 0)]));
  console.log(`soak: growth from cycle ${first.cycle} to ${last.cycle}: ${Object.entries(growth).map(([k, mb]) => `${k} ${mb >= 0 ? '+' : ''}${mb} MB`).join(', ')}`);
  const out = path.join(repoRoot(), 'bench', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'soak.json'), JSON.stringify({ when: new Date().toISOString(), cycles, samples, growth }, null, 2) + '\n');
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: Error) => { console.error(`soak: ${e.message}`); process.exitCode = 1; });
