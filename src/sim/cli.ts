#!/usr/bin/env node
// `npm run sim -- --seeds N --loss P --dup P --reorder P`: the full scenario once per seed in the
// deterministic simulation. A failing seed is printed with the command that replays it.
import { parseArgs } from 'node:util';
import { loadDatasetSync } from '../data/loader.js';
import type { StormRecord } from '../data/record.js';
import { runScenario, smallDataset, type ScenarioReport } from './scenario.js';

const USAGE = `usage: npm run sim -- [--seeds N] [--first-seed S] [--loss P] [--dup P] [--reorder P]
                       [--peers K] [--n N] [--records L | --data-dir DIR --year YYYY] [--verbose]
  Runs the full acceptance scenario (SPEC §6) once per seed on a simulated network that loses,
  duplicates and reorders datagrams, checking every invariant after every step.
  --seeds N        how many seeds (default 200), starting at --first-seed (default 1)
  --loss/--dup/--reorder P   fault probabilities per datagram (default 0.2, 0.05, 0.1)
  --peers K --n N  peers started and DHT size (default 6 and 5)
  --records L      synthetic records per run (default 2000); or --data-dir/--year for a real file
  --verbose        print every datagram and console line (use with one seed to replay a failure)`;

function main(): number {
  let v;
  try {
    v = parseArgs({
      options: {
        seeds: { type: 'string', default: '200' }, 'first-seed': { type: 'string', default: '1' },
        loss: { type: 'string', default: '0.2' }, dup: { type: 'string', default: '0.05' }, reorder: { type: 'string', default: '0.1' },
        peers: { type: 'string', default: '6' }, n: { type: 'string', default: '5' }, records: { type: 'string', default: '2000' },
        'data-dir': { type: 'string' }, year: { type: 'string', default: '1996' }, verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    console.error(`sim: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) return console.log(USAGE), 0;
  const num = (s: string, what: string): number => {
    const x = Number(s);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${what} '${s}' is not a non-negative number`);
    return x;
  };
  try {
    const seeds = num(v.seeds, '--seeds');
    const first = num(v['first-seed'], '--first-seed');
    const faults = { loss: num(v.loss, '--loss'), dup: num(v.dup, '--dup'), reorder: num(v.reorder, '--reorder') };
    const year = num(v.year, '--year');
    let data: { records: StormRecord[]; queries: number[] };
    if (v['data-dir']) {
      const ds = loadDatasetSync(v['data-dir'], year);
      data = { records: ds.records, queries: year === 1996 ? [5536849, 2402920, 5539287, 55770111] : smallDataset(year, 10, 1).queries };
    } else {
      data = smallDataset(year, num(v.records, '--records'), 1);
    }
    const started = performance.now();
    const failed: ScenarioReport[] = [];
    let datagrams = 0;
    let dropped = 0;
    for (let seed = first; seed < first + seeds; seed++) {
      const r = runScenario({ seed, faults, peers: num(v.peers, '--peers'), n: num(v.n, '--n'), year, ...data, verbose: v.verbose });
      datagrams += r.datagrams;
      dropped += r.dropped;
      if (!r.ok) {
        failed.push(r);
        console.log(`seed ${seed} FAILED: ${r.failures.join('; ')}`);
        console.log(`  replay: npm run sim -- --seeds 1 --first-seed ${seed} --loss ${faults.loss} --dup ${faults.dup} --reorder ${faults.reorder} --verbose`);
      }
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`sim: ${seeds - failed.length}/${seeds} seeds passed (loss ${faults.loss}, dup ${faults.dup}, reorder ${faults.reorder}; ` +
      `${data.records.length} records; ${datagrams} datagrams, ${dropped} dropped) in ${secs} s`);
    return failed.length === 0 ? 0 : 1;
  } catch (e) {
    console.error(`sim: ${(e as Error).message}`);
    return 2;
  }
}

process.exitCode = main();
