// Replication on real processes: the leader runs with `dht-peer --replicas 2`, so each record is
// kept at its node and as a copy at the next node. The leader prints each node's copies beside its
// records (summing to (r − 1)·total); then a member (not the leader) is killed with SIGKILL, and a
// Free peer's query for one of its records is answered by the copy, all 14 fields as in the file;
// an absent id that would be the dead node's is "not found", said by the complete copy.
// Small --rto/--tries make the dead member's silence show up in a fraction of a second.
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask } from '../../src/scenario/system.js';
import { COLUMNS, eventIdOf } from '../../src/data/record.js';
import { nodeOf, positionOf, tableSize } from '../../src/data/hash.js';
import { DATA_DIR, expectedCounts, records } from '../helpers/data.js';

const PEER_ARGS = ['--rto', '50', '--tries', '5'];
const YEAR = 1950;
const N = 3;
let system: System | null = null;

afterAll(async () => {
  if (!system) return;
  system.killAll();
  await Promise.all(system.all().map((p) => p.exited));
});

/** The leader's `node <id> <name>: <count> records (+<k> replicas)` lines. */
function parseReplicaCounts(lines: string[]): { id: number; name: string; count: number; replicas: number }[] {
  const out = [];
  for (const line of lines) {
    const m = /^node (\d+) ([A-Za-z][A-Za-z0-9]*): (\d+) records? \(\+(\d+) replicas?\)$/.exec(line);
    if (m) out.push({ id: Number(m[1]), name: m[2]!, count: Number(m[3]), replicas: Number(m[4]) });
  }
  return out.sort((a, b) => a.id - b.id);
}

describe('replication (--replicas 2) on real processes', () => {
  it('prints replica counts beside each node, and answers a killed member\'s records from its copy', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, peerArgs: PEER_ARGS });
    system = sys;
    await sys.addPeersWith(['peer1'], ['--replicas', '2'], /^register: SUCCESS/);
    await sys.addPeers(['peer2', 'peer3', 'peer4']);

    const setup = await ask(sys.peer('peer1'), `setup-dht peer1 ${N} ${YEAR}`, /^dht-complete: SUCCESS/, 60_000);
    const nodes = parseReplicaCounts(setup);
    const own = expectedCounts(YEAR, N);
    const total = own.reduce((a, b) => a + b, 0);
    expect(nodes.map((n) => n.count)).toEqual(own);
    // Node i keeps a copy of node i − 1's records: the copies sum to (r − 1)·total = total.
    expect(nodes.map((n) => n.replicas)).toEqual(own.map((_, i) => own[(i + N - 1) % N]));
    expect(setup).toContain(`setup: ${total} records stored on ${N} nodes (+${total} replicas, r = 2)`);

    // Kill node 1 (a member, not the leader): nothing tells the manager, which still lists it.
    const victim = sys.peer(nodes[1]!.name);
    victim.kill('SIGKILL');
    expect(await victim.exited).toBe(137);

    const all = records(YEAR);
    const s = tableSize(all.length);
    const ids = new Set(all.map(eventIdOf));
    const record = all.find((r) => nodeOf(positionOf(eventIdOf(r), s), N) === 1)!;
    const id = eventIdOf(record);
    const free = [...sys.peers.keys()].find((n) => !nodes.some((m) => m.name === n))!;
    const querier = sys.peer(free);
    const lines = await ask(querier, `query-dht ${free} ${id}`, /^query-dht: answered in /, 60_000);
    const printed = new Map(lines.map((l) => /^([a-z_]+): (.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m![1]!, m![2]!]));
    for (const [i, c] of COLUMNS.entries()) expect(printed.get(c), c).toBe(record[i]);
    expect(lines[lines.length - 2]).toMatch(/^id-seq: \d+(, \d+)*$/);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^query-dht: answered in [0-9.]+ ms by a replica: ${nodes[2]!.name} keeps a copy of node 1's records \\(node 1 did not answer\\)$`));

    // An id of no record that would be node 1's: "not found", from the complete copy.
    let absent = 1;
    while (ids.has(absent) || nodeOf(positionOf(absent, s), N) !== 1) absent += 1;
    const none = await ask(querier, `query-dht ${free} ${absent}`, /^query-dht: answered in /, 60_000);
    expect(none).toContain(`Storm event ${absent} not found in the DHT.`);
    expect(none[none.length - 1]).toMatch(/ by a replica: /);
  }, 180_000);
});
