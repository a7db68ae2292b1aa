// `node dist/bench/profile.js [--n N] [--year Y] [--data-dir DIR] [--queries Q] [--keyed]`: one setup
// (and optionally a burst of queries) of the real programs (with --keyed in keyed mode: a fresh key
// file given to the manager and every peer), every process started with --cpu-prof so
// that each writes a .cpuprofile into .tmp/prof/ when it exits. Open them in Chrome DevTools, or
// summarise with `node dist/bench/profile-top.js .tmp/prof/*.cpuprofile`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { System, ask, parseCounts, repoRoot, BULK_MS } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';

async function main(): Promise<void> {
  const v = parseArgs({ options: { n: { type: 'string', default: '5' }, year: { type: 'string', default: '1996' }, 'data-dir': { type: 'string' }, queries: { type: 'string', default: '0' }, keyed: { type: 'boolean', default: false }, window: { type: 'string', default: '64' } } }).values;
  const dir = path.join(repoRoot(), '.tmp', 'prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const n = Number(v.n);
  const q = Number(v.queries);
  const keyArgs: string[] = [];
  if (v.keyed) {
    const file = path.join(dir, 'cluster.key');
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    keyArgs.push('--key-file', file);
  }
  const system = await System.start({
    dataDir: resolveDataDir(v['data-dir']).dir, trace: 'off', echo: false, managerArgs: keyArgs, peerArgs: ['--window', v.window, ...keyArgs],
    launcher: (name, c) => ({ cmd: c.cmd, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`, ...c.args] }),
  });
  try {
    const names = Array.from({ length: n + (q > 0 ? 1 : 0) }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const us = (): number => Number(process.hrtime.bigint() / 1000n);
    const windows: { what: string; start: number; end: number }[] = [];
    let start = us();
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${v.year}`, /^setup-dht: done in /, BULK_MS);
    console.log(lines[lines.length - 1]);
    windows.push({ what: 'setup', start, end: us() });
    if (q > 0) {
      const ring = parseCounts(lines).map((c) => c.name);
      const free = names.find((k) => !ring.includes(k))!;
      const p = system.peer(free);
      const cmds = Array.from({ length: q }, (_, i) => `query-dht ${free} ${i % 2 ? 90_000_000 + i : 5_000_000 + i}`);
      const t0 = performance.now();
      start = us();
      p.send(cmds.join('\n'));
      for (let i = 0; i < q; i++) await p.waitForLines(/^query-dht: (answered in |no answer)/, BULK_MS);
      windows.push({ what: 'queries', start, end: us() });
      console.log(`${q} queries in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    // CLOCK_MONOTONIC microseconds, the clock of the profiles' timestamps: profile-top keeps only these windows.
    writeFileSync(path.join(dir, 'windows.json'), JSON.stringify(windows));
    for (const p of system.all()) p.send('quit');
    await Promise.all(system.all().map((p) => p.exited));
  } finally {
    system.killAll();
  }
  console.log(`profiles in ${dir}`);
}

main().catch((e: Error) => { console.error(e.message); process.exitCode = 1; });
