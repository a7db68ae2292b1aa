// What retransmission costs a setup: datagrams sent, setup time, store retransmissions and the
// duplicate stores their receivers saw (`duplicate` verdict), read from every process's event log
// (`--log`). A duplicate store at a receiver is a resend that was not needed: the batch had arrived.
// Plain and keyed mode, alternated round by round; medians. To compare two builds, run this from
// each build's tree in turn (A/B/A/B): `node dist/bench/retransmissions.js [--rounds N] [--n N]
// [--year Y] [--data-dir DIR] [--peer-args "ARGS"]`.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { System, ask, BULK_MS } from '../src/scenario/system.js';
import { resolveDataDir } from '../src/data/dirs.js';
import { median } from './floor.js';
import { traffic } from './status.js';

export interface RetransmitSample { ms: number; datagrams: number; storeSends: number; storeResends: number; duplicateStores: number }

/** Store sends, store resends (`try` > 1) and duplicate stores received, over a directory of event logs. */
export function countLog(logDir: string): Omit<RetransmitSample, 'ms' | 'datagrams'> {
  let storeSends = 0;
  let storeResends = 0;
  let duplicateStores = 0;
  for (const f of readdirSync(logDir)) {
    for (const line of readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
      if (!line.includes('"store"')) continue;
      let e: { k?: string; type?: string; try?: number; note?: string };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue;
      }
      if (e.type !== 'store') continue;
      if (e.k === 'send') {
        storeSends += 1;
        if ((e.try ?? 1) > 1) storeResends += 1;
      } else if (e.k === 'recv' && e.note === 'duplicate') duplicateStores += 1;
    }
  }
  return { storeSends, storeResends, duplicateStores };
}

async function oneSetup(dataDir: string, year: number, n: number, keyed: boolean, peerArgs: string[]): Promise<RetransmitSample> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringdht-rtx-'));
  const logDir = path.join(dir, 'logs');
  let shared: string[] = [];
  if (keyed) {
    const file = path.join(dir, 'cluster.key');
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    shared = ['--key-file', file];
  }
  const system = await System.start({ dataDir, trace: 'off', echo: false, logDir, managerArgs: shared, peerArgs: [...shared, ...peerArgs] });
  try {
    const names = Array.from({ length: n }, (_, i) => `peer${i + 1}`);
    await system.addPeers(names);
    const before = await traffic(system, names);
    const lines = await ask(system.peer('peer1'), `setup-dht peer1 ${n} ${year}`, /^setup-dht: done in /, BULK_MS);
    const ms = Number(/done in ([\d.]+) ms/.exec(lines[lines.length - 1]!)![1]);
    const after = await traffic(system, names);
    const datagrams = names.reduce((a, k) => a + after.get(k)!.datagrams - before.get(k)!.datagrams, 0);
    // SIGTERM: each process closes its log before it exits.
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
    return { ms, datagrams, ...countLog(logDir) };
  } finally {
    system.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const v = parseArgs({ options: { rounds: { type: 'string', default: '7' }, n: { type: 'string', default: '5' }, year: { type: 'string', default: '1996' }, 'data-dir': { type: 'string' }, 'peer-args': { type: 'string', default: '' } } }).values;
  const dataDir = resolveDataDir(v['data-dir']).dir;
  const peerArgs = v['peer-args'].split(' ').filter((a) => a !== '');
  const load = (): string => os.loadavg()[0]!.toFixed(1);
  const samples: Record<string, RetransmitSample[]> = { plain: [], keyed: [] };
  for (let r = 0; r < Number(v.rounds); r++) {
    const order = r % 2 === 0 ? ['plain', 'keyed'] : ['keyed', 'plain'];
    for (const mode of order) {
      const s = await oneSetup(dataDir, Number(v.year), Number(v.n), mode === 'keyed', peerArgs);
      samples[mode]!.push(s);
      console.log(`  round ${r + 1} ${mode.padEnd(5)} setup ${s.ms.toFixed(1)} ms, ${s.datagrams} datagrams, ${s.storeSends} store sends of which ${s.storeResends} resends, ${s.duplicateStores} duplicate stores received (load ${load()})`);
    }
  }
  for (const [mode, xs] of Object.entries(samples)) {
    const m = (f: (s: RetransmitSample) => number): number => median(xs.map(f));
    console.log(`${mode}: median setup ${m((s) => s.ms).toFixed(1)} ms, ${m((s) => s.datagrams)} datagrams, ${m((s) => s.storeResends)} store resends, ${m((s) => s.duplicateStores)} duplicate stores (${xs.length} rounds)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
