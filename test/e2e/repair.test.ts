// Self-healing with real processes (issue 8, PROTOCOL §4.12): `kill -9` of a member of a ready
// DHT, then of its leader. Each time the manager declares the death, the (new) leader renumbers
// the ring without the dead peer and rebuilds it from the file, printing the count lines as a
// setup does; the counts are the hash's for the smaller ring; a record that lived on the dead
// node is found again; the dead peer's program, started again, registers its old name and ports;
// and the new leader can tear the repaired DHT down.
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask, binPath, parseCounts, query, BULK_MS } from '../../src/scenario/system.js';
import { startProcess, type DrivenProcess } from '../../src/scenario/driver.js';
import { nodeOf, positionOf, tableSize } from '../../src/data/hash.js';
import { eventIdOf } from '../../src/data/record.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, records } from '../helpers/data.js';
import { managerStatus } from './udp.js';

let system: System | null = null;
const extra: DrivenProcess[] = [];

afterAll(async () => {
  for (const p of extra) p.kill();
  if (!system) return;
  system.killAll();
  await Promise.all([...system.all(), ...extra].map((p) => p.exited));
});

/** An event id of the year that the hash puts on node `id` of a ring of n. */
function eventOn(id: number, n: number): number {
  const ids = records(1996).map(eventIdOf);
  const s = tableSize(ids.length);
  const found = ids.find((e) => nodeOf(positionOf(e, s), n) === id);
  if (found === undefined) throw new Error(`no record on node ${id} of ${n}`);
  return found;
}

describe(`kill -9 in a ready DHT, and the DHT repairs itself (${DATA_LABEL})`, () => {
  it('a member, then the leader: renumbered, rebuilt with the right counts, their records found, their names free again', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false });
    system = sys;
    const names = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'];
    await sys.addPeers(names);
    const ports = (await managerStatus(sys.manager)).peers;
    const setup = await ask(sys.peer('peer1'), 'setup-dht peer1 5 1996', /^dht-complete: SUCCESS/, BULK_MS);
    const ring = parseCounts(setup).map((c) => c.name);
    expect(ring).toHaveLength(5);
    const free = names.find((n) => !ring.includes(n))!;

    // 1. A member (node 2) dies. Its records are found again after the repair.
    const member = ring[2]!;
    const memberRecord = eventOn(2, 5);
    sys.peer(member).kill('SIGKILL');
    expect(await sys.peer(member).exited).toBe(137);
    await sys.manager.waitFor(new RegExp(`^liveness: ${member} declared dead`), 10_000);
    await sys.manager.waitFor(new RegExp(`^liveness: ${member} was a member; peer1 repairs the DHT without it \\(4 members\\)`), 5_000);
    const repaired = await sys.peer('peer1').waitForLines(/^repair: \d+ records? stored on 4 nodes$/, BULK_MS);
    const counts = parseCounts(repaired);
    expect(counts.map((c) => c.name)).toEqual(ring.filter((n) => n !== member));
    expect(counts.map((c) => c.count)).toEqual(expectedCounts(1996, 4));
    await sys.manager.waitFor(/^dht-rebuilt peer1 peer1: SUCCESS — peer1 repaired the DHT: 4 members led by peer1/, 30_000);
    const found = await query(sys.peer(free), memberRecord);
    expect(found.found).toBe(true);
    expect(found.notFoundLine).toBe(false);

    // The dead member's program, started again, takes its old name and ports.
    const p = ports.get(member)!;
    const again = startProcess(`${member}-again`, process.execPath, [binPath('dht-peer'), '127.0.0.1', String(sys.managerPort), '--data-dir', DATA_DIR, '--trace', 'summary'], process.env, { echo: false });
    extra.push(again);
    const reg = await ask(again, `register ${member} ${p.ip} ${p.mport} ${p.pport}`, /^register: SUCCESS/);
    expect(reg.at(-1)).toMatch(new RegExp(`^register: SUCCESS — ${member} registered at 127\\.0\\.0\\.1`));

    // 2. The leader dies: the next member leads the ring of 3 and repairs it.
    const survivors = ring.filter((n) => n !== member);
    const next = survivors[1]!;
    const leaderRecord = eventOn(0, 4);
    sys.peer('peer1').kill('SIGKILL');
    await sys.manager.waitFor(new RegExp(`^liveness: peer1 was the leader; ${next} leads now and repairs the DHT without it \\(3 members\\)`), 15_000);
    const again2 = await sys.peer(next).waitForLines(/^repair: \d+ records? stored on 3 nodes$/, BULK_MS);
    expect(parseCounts(again2).map((c) => c.count)).toEqual(expectedCounts(1996, 3));
    await sys.manager.waitFor(new RegExp(`^dht-rebuilt ${next} ${next}: SUCCESS`), 30_000);
    const status = await managerStatus(sys.manager);
    expect(status.dht).toMatch(new RegExp(`^DHT: ready, year 1996, leader ${next}, 3 members`));
    expect(status.peers.has('peer1')).toBe(false);
    expect((await query(sys.peer(free), leaderRecord)).found).toBe(true);

    // The new leader tears the repaired DHT down; its members are Free.
    await ask(sys.peer(next), `teardown-dht ${next}`, /^teardown-complete: SUCCESS/, BULK_MS);
    const end = await managerStatus(sys.manager);
    expect(end.dht).toBe('DHT: none');
    expect([...end.peers.values()].every((x) => x.state === 'Free')).toBe(true);
  });
});
