// Repair measured (PROTOCOL §4.12), in the deterministic simulation with the real cores: per seed,
// six peers register with a manager that detects failures (the defaults), a DHT of 5 is set up on
// a lossy network, one member (the leader in every third seed) is killed at a random moment, and
// the time until the DHT is ready again is taken; then every node's table is compared with the
// hash for the smaller ring, and a record of the dead node is queried.
// `npm run sim:repair -- --seeds 1000 --loss 0.3` prints the figures.
import { nodeOf, positionOf, tableSize, countsPerNode } from '../data/hash.js';
import { toLine } from '../data/line.js';
import { eventIdOf } from '../data/record.js';
import { DEFAULT_LIVENESS } from '../manager/liveness.js';
import { forkRandom } from './rng.js';
import { LOSSY_RETRY, smallDataset } from './scenario.js';
import { World } from './world.js';

export interface RepairOptions { loss: number; dup: number; reorder: number; records: number }
export const REPAIR_DEFAULTS: RepairOptions = { loss: 0.3, dup: 0.05, reorder: 0.1, records: 1000 };

export interface RepairReport {
  seed: number;
  /** ms from the kill to the DHT ready again (dht-rebuilt taken); null: never (within 120 s). */
  healMs: number | null;
  /** Every node's table is what the hash gives for the ring without the dead member. */
  tablesRight: boolean;
  /** A record that lived on the dead node was found again by the Free peer. */
  found: boolean;
  leaderKilled: boolean;
}

export function runRepairSeed(seed: number, o: RepairOptions = REPAIR_DEFAULTS): RepairReport {
  const data = smallDataset(1996, o.records, 3);
  const w = new World({
    seed, faults: { loss: o.loss, dup: o.dup, reorder: o.reorder },
    manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY, liveness: DEFAULT_LIVENESS },
    peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 60_000 },
    datasets: new Map([[1996, { year: 1996, lines: data.records.map(toLine), source: 'sim' }]]),
  });
  const names = [1, 2, 3, 4, 5, 6].map((i) => `peer${i}`);
  names.forEach((name, i) => w.addPeer(name, 5002 + 2 * i, 5003 + 2 * i));
  const printed = (name: string, re: RegExp) => () => w.peer(name).prints.some((l) => re.test(l));
  const failed = (leaderKilled: boolean): RepairReport => ({ seed, healMs: null, tablesRight: false, found: false, leaderKilled });
  names.forEach((name, i) => w.type(name, `register ${name} 127.0.0.1 ${5002 + 2 * i} ${5003 + 2 * i}`));
  if (!w.runUntil(() => names.every((n) => printed(n, /^register: SUCCESS/)()), 120_000)) return failed(false);
  w.type('peer1', 'setup-dht peer1 5 1996');
  if (!w.runUntil(printed('peer1', /^dht-complete: SUCCESS/), 120_000)) return failed(false);
  const ring = w.peer('peer1').core.ring!.peers.map((p) => p.name);
  const rng = forkRandom(seed, 'repair');
  const leaderKilled = seed % 3 === 0;
  const deadId = leaderKilled ? 0 : 1 + Math.floor(rng() * 4);
  const dead = ring[deadId]!;
  // After the first heartbeats: a peer just registered has a grace of 10 s (PROTOCOL §4.11).
  w.settle(1_000 + rng() * 2_000);
  w.kill(dead);
  const killedAt = w.now;
  if (!w.runUntil(() => w.manager.dht?.phase === 'repairing', 30_000)) return failed(leaderKilled);
  if (!w.runUntil(() => w.manager.dht?.phase === 'ready', 120_000)) return failed(leaderKilled);
  const healMs = w.now - killedAt;
  w.settle(1_000);
  const d = w.manager.dht!;
  const ids = data.records.map(eventIdOf);
  const s = tableSize(ids.length);
  const tablesRight = d.members.map((m) => w.peer(m).core.table.count).join() === countsPerNode(ids, s, d.members.length).join();
  const free = names.find((n) => !ring.includes(n))!;
  const target = ids.find((e) => nodeOf(positionOf(e, s), 5) === deadId)!;
  const lines = w.peer(free).prints;
  const from = lines.length;
  w.type(free, `query-dht ${free} ${target}`);
  w.runUntil(() => lines.slice(from).some((l) => /^query-dht: (answered in|no answer)/.test(l)), 120_000);
  const found = lines.slice(from).includes(`event_id: ${target}`);
  return { seed, healMs, tablesRight, found, leaderKilled };
}

export interface RepairSummary { seeds: number; healed: number; right: number; found: number; p50: number; p99: number; max: number; failedSeeds: number[] }

export function summarizeRepair(reports: RepairReport[]): RepairSummary {
  const times = reports.map((r) => r.healMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return {
    seeds: reports.length, healed: times.length, right: reports.filter((r) => r.tablesRight).length, found: reports.filter((r) => r.found).length,
    p50: at(0.5), p99: at(0.99), max: times.at(-1) ?? NaN,
    failedSeeds: reports.filter((r) => r.healMs === null || !r.tablesRight || !r.found).map((r) => r.seed),
  };
}
