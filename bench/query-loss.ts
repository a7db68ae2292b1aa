#!/usr/bin/env node
// Queries under loss, in the deterministic simulation with the programs' defaults (RTO 200 ms,
// ceiling 3.2 s, --query-timeout 30 s): a DHT of n is built on a clean network, then the loss is
// switched on and one Free peer asks Q queries one after the other (present ids, so walks are
// long: a record is found at its own node). Prints, per loss rate, how many were answered, the
// datagrams per query and the answer times. Loss 0 gives the clean network's datagrams per query.
//
//   node dist/bench/query-loss.js [--n 5] [--queries 300] [--loss 0,0.1,0.3] [--seed 1] [--tries 10]
import { parseArgs } from 'node:util';
import { World } from '../src/sim/world.js';
import { smallDataset } from '../src/sim/scenario.js';
import { toLine } from '../src/data/line.js';
import { eventIdOf } from '../src/data/record.js';
import { DEFAULT_RETRY } from '../src/reliable/index.js';
import { forkRandom } from '../src/sim/rng.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '5' }, queries: { type: 'string', default: '300' }, loss: { type: 'string', default: '0,0.1,0.2,0.3' }, seed: { type: 'string', default: '1' }, tries: { type: 'string', default: String(DEFAULT_RETRY.maxTries) } } });
const retry = { ...DEFAULT_RETRY, maxTries: Number(values.tries) };
const n = Number(values.n);
const queries = Number(values.queries);
const seed = Number(values.seed);
const { records } = smallDataset(1996, 2000, 1);
const ids = records.map(eventIdOf);

for (const loss of values.loss.split(',').map(Number)) {
  const world = new World({
    seed, faults: { loss: 0, dup: 0, reorder: 0 }, latency: 'lan',
    manager: { waitTimeoutMs: 600_000, retry },
    peer: { retry, maxPayload: 1400, window: 128, queryTimeoutMs: 30_000 },
    datasets: new Map([[1996, { year: 1996, lines: records.map(toLine), source: 'sim' }]]),
  });
  const names = Array.from({ length: n + 1 }, (_, i) => `peer${i + 1}`);
  names.forEach((name, i) => {
    world.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
    world.type(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
  });
  world.runUntil(() => world.manager.peers.size === names.length && names.every((name) => world.peer(name).core.idle));
  world.type('peer1', `setup-dht peer1 ${n} 1996`);
  world.runUntil(() => world.manager.dht?.phase === 'ready' && world.peer('peer1').core.idle);
  const asker = names.find((name) => !world.manager.dht?.members.includes(name))!;
  const prints = world.peer(asker).prints;
  const random = forkRandom(seed, 'bench');
  world.network.faults.loss = loss;
  const before = world.datagrams;
  let answered = 0;
  let gaveUp = 0;
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const id = ids[Math.floor(random() * ids.length)]!;
    const start = world.now;
    const from = prints.length;
    world.type(asker, `query-dht ${asker} ${id}`);
    world.settle(0);
    world.runUntil(() => world.peer(asker).core.idle, 120_000);
    const out = prints.slice(from);
    if (out.some((l) => l.startsWith('id-seq: '))) {
      answered += 1;
      times.push(world.now - start);
    } else if (out.some((l) => /no answer for event/.test(l))) gaveUp += 1;
    else console.log(`  query ${id}: ${out.join(' | ')}`);
  }
  // Every datagram since the loss was switched on: query-dht request and response, walks, answers, acks.
  const datagrams = world.datagrams - before;
  times.sort((a, b) => a - b);
  const at = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1) : '-');
  console.log(`n=${n} loss=${loss}: ${answered}/${queries} answered, ${gaveUp} gave up; ${(datagrams / queries).toFixed(2)} datagrams per query (with the manager's 2); ` +
    `answer time ms p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}`);
}
