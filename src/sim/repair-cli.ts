#!/usr/bin/env node
// `npm run sim:repair -- [--seeds N] [--first-seed S] [--loss P] [--records R]`: repair measured
// over many seeds (sim/repair.ts): time from a member's death to the DHT ready again (p50/p99/max),
// tables right for the smaller ring, a record of the dead node found again.
import { parseArgs } from 'node:util';
import { REPAIR_DEFAULTS, runRepairSeed, summarizeRepair, type RepairReport } from './repair.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: {
  seeds: { type: 'string', default: '200' }, 'first-seed': { type: 'string', default: '1' },
  loss: { type: 'string' }, records: { type: 'string' },
} });
const num = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v));
const o = { ...REPAIR_DEFAULTS, loss: num(values.loss, REPAIR_DEFAULTS.loss), records: num(values.records, REPAIR_DEFAULTS.records) };
const seeds = num(values.seeds, 200);
const first = num(values['first-seed'], 1);
const t0 = Date.now();
const reports: RepairReport[] = [];
for (let s = first; s < first + seeds; s++) reports.push(runRepairSeed(s, o));
const r = summarizeRepair(reports);
console.log(`repair: ${r.seeds} seeds (first ${first}), a DHT of 5 of ${o.records} records, loss ${o.loss}, dup ${o.dup}, reorder ${o.reorder}; a member killed (the leader in every third seed)`);
console.log(`  healed (ready again): ${r.healed}/${r.seeds}; from the kill: p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms (virtual time)`);
console.log(`  tables right for the ring of 4: ${r.right}/${r.seeds}; a record of the dead node found again: ${r.found}/${r.seeds}`);
if (r.failedSeeds.length) console.log(`  failed seeds: ${r.failedSeeds.slice(0, 20).join(', ')}`);
console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = r.failedSeeds.length === 0 ? 0 : 1;
