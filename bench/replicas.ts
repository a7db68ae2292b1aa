#!/usr/bin/env node
// What replication (dht-peer --replicas R) costs and buys, in the deterministic simulation with
// the programs' defaults (RTO 200 ms, 10 tries, --query-timeout 30 s) on a clean LAN: per r, the
// datagrams of one setup (store batches and their acks included) and their virtual time; then
// node 2 is killed and a Free peer asks Q of its records one after the other: how many are
// answered (by a copy), the datagrams per query and the answer times. Deterministic per seed.
// `--alive` kills nobody and asks random records (what copies cost queries when nothing died);
// `--loss P` switches loss on for the queries.
//
//   node dist/bench/replicas.js [--n 5] [--records 48534] [--queries 50] [--r 1,2,3] [--seed 1] [--loss P] [--alive]
import { parseArgs } from 'node:util';
import { World } from '../src/sim/world.js';
import { smallDataset } from '../src/sim/scenario.js';
import { toLine } from '../src/data/line.js';
import { eventIdOf } from '../src/data/record.js';
import { nodeOf, positionOf, tableSize } from '../src/data/hash.js';
import { DEFAULT_RETRY } from '../src/reliable/index.js';
import { forkRandom } from '../src/sim/rng.js';

const { values } = parseArgs({ options: {
  n: { type: 'string', default: '5' }, records: { type: 'string', default: '48534' }, queries: { type: 'string', default: '50' },
  r: { type: 'string', default: '1,2,3' }, seed: { type: 'string', default: '1' }, loss: { type: 'string', default: '0' },
  alive: { type: 'boolean', default: false },
} });
const n = Number(values.n);
const queries = Number(values.queries);
const seed = Number(values.seed);
const { records } = smallDataset(1996, Number(values.records), 1);
const ids = records.map(eventIdOf);
const s = tableSize(ids.length);
const dead = 2 % n;
const asked = values.alive ? ids : ids.filter((id) => nodeOf(positionOf(id, s), n) === dead);

for (const r of values.r.split(',').map(Number)) {
  const world = new World({
    seed, faults: { loss: 0, dup: 0, reorder: 0 }, latency: 'lan',
    manager: { waitTimeoutMs: 600_000, retry: DEFAULT_RETRY },
    peer: { retry: DEFAULT_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 30_000, replicas: r },
    datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'sim' }]]),
  });
  const names = Array.from({ length: n + 1 }, (_, i) => `peer${i + 1}`);
  names.forEach((name, i) => {
    world.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
    world.type(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
  });
  world.runUntil(() => world.manager.peers.size === names.length && names.every((name) => world.peer(name).core.idle));
  const setupFrom = world.datagrams;
  const setupAt = world.now;
  world.type('peer1', `setup-dht peer1 ${n} 1996`);
  world.runUntil(() => world.manager.dht?.phase === 'ready' && world.peer('peer1').core.idle);
  const setupDatagrams = world.datagrams - setupFrom;
  const setupMs = world.now - setupAt;
  const total = world.peer('peer1').prints.find((l) => /^setup: \d+ records? stored/.test(l)) ?? '?';
  const ring = world.peer('peer1').core.ring!;
  if (!values.alive) world.kill(ring.peers[dead]!.name);
  world.network.faults.loss = Number(values.loss);
  const asker = names.find((name) => !world.manager.dht?.members.includes(name))!;
  const prints = world.peer(asker).prints;
  const random = forkRandom(seed, 'bench-replicas');
  const before = world.datagrams;
  let answered = 0;
  let byCopy = 0;
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const id = asked[Math.floor(random() * asked.length)]!;
    const start = world.now;
    const from = prints.length;
    world.type(asker, `query-dht ${asker} ${id}`);
    world.settle(0);
    world.runUntil(() => world.peer(asker).core.idle, 120_000);
    const out = prints.slice(from);
    if (out.some((l) => l.startsWith('id-seq: '))) {
      answered += 1;
      times.push(world.now - start);
    }
    if (out.some((l) => / by a replica: /.test(l))) byCopy += 1;
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => (times.length ? (times[Math.min(times.length - 1, Math.floor(p * times.length))]! / 1000).toFixed(2) : '-');
  console.log(`r=${r}: setup ${setupDatagrams} datagrams, ${(setupMs / 1000).toFixed(2)} s virtual (${total}); ` +
    `${values.alive ? 'nobody killed' : `node ${dead} killed`}, loss ${values.loss}: ${answered}/${queries} ${values.alive ? 'random records' : 'of its records'} answered (${byCopy} by a copy), ` +
    `${((world.datagrams - before) / queries).toFixed(1)} datagrams per query, answer time s p50 ${at(0.5)}, max ${at(1)}`);
}
