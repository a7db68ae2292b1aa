#!/usr/bin/env node
// `npm run sim -- [options]`: the fixed SPEC §6 script or a random workload (VOPR-style) once per
// seed in the deterministic simulation. A failing seed is printed with the command that replays
// it exactly, every option spelled out.
import { DEFAULTS, loadSimData, parseSimArgs, replayArgs, runSeed, type SeedReport } from './run.js';

const D = DEFAULTS;
const USAGE = `usage: npm run sim -- [--workload script|random] [--seeds N] [--first-seed S | --seed S] [--steps N]
                       [--loss P] [--dup P] [--reorder P] [--latency lan|uniform|exp|link]
                       [--crash P] [--partition P] [--peers K] [--n N]
                       [--records L | --data-dir DIR --year YYYY] [--trace off|summary|full] [--verbose]
                       [--log DIR] [--no-detect] [--replicas R] [--compress]
  Runs the system once per seed on a simulated network, checking every invariant as it goes.
  --workload       script: the full acceptance scenario (SPEC §6), checked after every step;
                   random: persons typing valid and invalid commands at random consoles, with
                   crashes, restarts and partitions, checked by sim/checker.ts (default ${D.workload})
  --seeds N        how many seeds (default ${D.seeds}), starting at --first-seed (default ${D.firstSeed});
                   --seed S runs that one seed
  --steps N        commands per random seed (default ${D.steps})
  --loss/--dup/--reorder P   fault probabilities per datagram (default ${D.loss}, ${D.dup}, ${D.reorder})
  --latency        lan 0.2–0.4 ms, uniform 0.1–10 ms, exp (3 ms mean, long tail), link (a mean per link)
  --no-detect      the manager does not detect dead peers (dht-manager --no-detect); by default it does,
                   and repairs a ready DHT without a dead member (random workload)
  --replicas R     random workload: every peer runs with dht-peer --replicas R (each record also kept at
                   the next R−1 nodes; the checker compares every copy with the data) (default 1)
  --compress       every peer runs with dht-peer --compress on: a leader's store batches are deflated
  --crash P        per random step, chance a process (the manager too) crashes; restarted later (default ${D.crash})
  --partition P    per random step, chance the network is cut in two for a while (default ${D.partition})
  --peers K --n N  peers started and DHT size (largest size asked for, random) (default ${D.peers} and ${D.n})
  --records L      synthetic records per run (default ${D.records}); or --data-dir/--year for a real file
  --trace          the datagram trace in the prints (default ${D.trace})
  --verbose        print every datagram and console line (use with one seed to replay a failure)
  --log DIR        write every process's event log (DIR/<process>.jsonl, the format of --log of the
                   programs, in virtual time) and DIR/diagram.html; with several seeds, DIR/seed-N/`;

function main(): number {
  let o;
  try {
    o = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`sim: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (o.help) return console.log(USAGE), 0;
  let data;
  try {
    data = loadSimData(o);
  } catch (e) {
    console.error(`sim: ${(e as Error).message}`);
    return 2;
  }
  const started = performance.now();
  const failed: SeedReport[] = [];
  const known = new Map<string, number>();
  let datagrams = 0;
  let dropped = 0;
  let crashes = 0;
  let partitions = 0;
  let answers = 0;
  let copies = 0;
  let pristine = 0;
  const completed = new Map<string, number>();
  // Bounded by --seeds.
  for (let seed = o.firstSeed; seed < o.firstSeed + o.seeds; seed++) {
    const r = runSeed(o, seed, data);
    datagrams += r.datagrams;
    dropped += r.dropped;
    crashes += r.crashes;
    partitions += r.partitions;
    answers += r.answers;
    copies += r.replicasChecked ?? 0;
    if (r.pristine) pristine += 1;
    for (const [k, v] of r.known) known.set(k, (known.get(k) ?? 0) + v);
    for (const [k, v] of r.completed) completed.set(k, (completed.get(k) ?? 0) + v);
    if (o.verbose || o.seeds === 1) console.log(`seed ${seed}: digest ${r.digest}`);
    if (r.diagram && o.seeds === 1) console.log(`seed ${seed}: diagram ${r.diagram} (event logs beside it)`);
    if (!r.ok) {
      failed.push(r);
      console.log(`seed ${seed} FAILED: ${r.failures.join('; ')}`);
      // The replay leaves its event logs and time-space diagram (docs/DIAGRAMS.md).
      const log = o.log === undefined ? ['--log', `run/sim-seed-${seed}`] : [];
      console.log(`  replay: npm run sim -- ${[...replayArgs(o, seed), ...log].join(' ')} --verbose`);
    }
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const random = o.workload === 'random' ? `; ${crashes} crashes, ${partitions} partitions, ${answers} query answers checked, ${copies > 0 ? `${copies} copy tables compared with the data, ` : ''}${pristine} seeds undisturbed (final views compared)` : '';
  console.log(`sim: ${o.seeds - failed.length}/${o.seeds} ${o.workload} seeds passed (loss ${o.loss}, dup ${o.dup}, reorder ${o.reorder}, latency ${o.latency}; ` +
    `${data.records.length} records; ${datagrams} datagrams, ${dropped} dropped${random}) in ${secs} s`);
  if (completed.size > 0) console.log(`completed: ${[...completed.entries()].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  if (known.size > 0) console.log(`known: ${[...known.entries()].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = main();
