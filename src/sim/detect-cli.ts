#!/usr/bin/env node
// `npm run sim:detect -- [--seeds N] [--first-seed S] [--loss P] [--peers K] [--live-ms MS]`:
// failure detection measured over many seeds (sim/detect.ts): time to declare a killed peer dead
// (p50/p99/max), false positives among live peers, liveness datagrams per peer per second.
import { parseArgs } from 'node:util';
import { DETECT_DEFAULTS, runDetectSeed, summarize, type DetectReport } from './detect.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: {
  seeds: { type: 'string', default: '1000' }, 'first-seed': { type: 'string', default: '1' },
  loss: { type: 'string' }, peers: { type: 'string' }, 'live-ms': { type: 'string' },
} });
const num = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));
const o = { ...DETECT_DEFAULTS, loss: num(values.loss, DETECT_DEFAULTS.loss), peers: num(values.peers, DETECT_DEFAULTS.peers), liveMs: num(values['live-ms'], DETECT_DEFAULTS.liveMs) };
const seeds = num(values.seeds, 1000);
const first = num(values['first-seed'], 1);
const t0 = Date.now();
const reports: DetectReport[] = [];
for (let s = first; s < first + seeds; s++) {
  reports.push(runDetectSeed(s, o));
  if ((s - first + 1) % 1000 === 0) process.stderr.write(`… ${s - first + 1} seeds\n`);
}
const r = summarize(reports);
const unregistered = reports.reduce((a, x) => a + x.unregistered, 0);
console.log(`detect: ${r.seeds} seeds (first ${first}), ${o.peers} peers, loss ${o.loss}, dup ${o.dup}, reorder ${o.reorder}, ${o.liveMs / 1000} s alive per seed; ` +
  `heartbeat ${o.liveness.heartbeatMs} ms, suspect ${o.liveness.suspectMs} ms, probe ${o.liveness.probeMs} ms, dead ${o.liveness.deadMs} ms`);
console.log(`  killed peer declared dead: ${r.detected}/${r.seeds}; p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms`);
console.log(`  false positives (live peers declared dead): ${r.falsePositives}${r.fpSeeds.length ? ` (seeds ${r.fpSeeds.slice(0, 10).join(', ')})` : ''}; peer-seconds observed: ${Math.round(reports.reduce((a, x) => a + (o.peers - x.unregistered), 0) * o.liveMs / 1000)}`);
console.log(`  liveness datagrams (alive + probe) per live peer per second: ${r.perPeerPerS.toFixed(2)}; peers never registered: ${unregistered}`);
console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = r.falsePositives === 0 && r.detected === r.seeds ? 0 : 1;
