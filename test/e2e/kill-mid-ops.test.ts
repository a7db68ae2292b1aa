// kill -9 of the peer whose leave or join is under way (issue 8 item 7, PROTOCOL §4.11): the
// manager declares it dead within seconds (not after --wait-timeout), dissolves the DHT it was
// changing, tells the members (`dissolved`), removes the dead peer's registration, and a new
// setup-dht then works. (A ready DHT that loses a member is repaired instead: repair.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask, parseCounts, BULK_MS } from '../../src/scenario/system.js';
import { DATA_DIR, DATA_LABEL } from '../helpers/data.js';
import { managerStatus } from './udp.js';

let system: System | null = null;

afterAll(async () => {
  if (!system) return;
  system.killAll();
  await Promise.all(system.all().map((p) => p.exited));
});

describe(`kill -9 in the middle of a leave and of a join (${DATA_LABEL})`, () => {
  it('the leaver, then the joiner: the DHT is dissolved at once, the dead peer deregistered, a new DHT set up', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false });
    system = sys;
    const names = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'];
    await sys.addPeers(names);

    // 1. The leaver dies once the manager said SUCCESS (its teardown and renumbering under way).
    const setup = await ask(sys.peer('peer1'), 'setup-dht peer1 5 1996', /^dht-complete: SUCCESS/, BULK_MS);
    const ring = parseCounts(setup).map((c) => c.name);
    const leaver = ring[2]!;
    await ask(sys.peer(leaver), `leave-dht ${leaver}`, /^leave-dht: SUCCESS/);
    sys.peer(leaver).kill('SIGKILL');
    expect(await sys.peer(leaver).exited).toBe(137);
    await sys.manager.waitFor(new RegExp(`^${leaver} \\(the leaver\\) is dead; the DHT is dissolved and its peers are Free$`), 15_000);
    await sys.manager.waitFor(new RegExp(`^liveness: ${leaver} deregistered`), 5_000);
    // Every member hears it (each notice is sent and retransmitted on its own): wait for all, so
    // that no late `dissolved` line of this DHT is read as the answer to a later command.
    await Promise.all(ring.filter((n) => n !== leaver).map((n) => sys.peer(n).waitFor(/^dissolved: /, 15_000)));
    const afterLeave = await managerStatus(sys.manager);
    expect(afterLeave.dht).toBe('DHT: none');
    expect(afterLeave.peers.has(leaver)).toBe(false);

    // 2. A DHT of 4 of the five left; the fifth joins it and dies once the manager said SUCCESS.
    const alive = names.filter((n) => n !== leaver);
    const leader = alive[0]!;
    for (const n of alive) sys.peer(n).mark(); // the lines of the first DHT are read
    const again = await ask(sys.peer(leader), `setup-dht ${leader} 4 1996`, /^dht-complete: SUCCESS/, BULK_MS);
    const ring2 = parseCounts(again).map((c) => c.name);
    const joiner = alive.find((n) => !ring2.includes(n))!;
    await ask(sys.peer(joiner), `join-dht ${joiner}`, /^join-dht: SUCCESS/);
    sys.peer(joiner).kill('SIGKILL');
    await sys.manager.waitFor(new RegExp(`^${joiner} \\(the joiner\\) is dead; the DHT is dissolved and its peers are Free$`), 15_000);
    await sys.manager.waitFor(new RegExp(`^liveness: ${joiner} deregistered`), 5_000);
    const afterJoin = await managerStatus(sys.manager);
    expect(afterJoin.dht).toBe('DHT: none');
    expect(afterJoin.peers.has(joiner)).toBe(false);

    await Promise.all(ring2.map((n) => sys.peer(n).waitFor(/^dissolved: /, 15_000)));

    // 3. The four left set up a DHT again.
    const last = await ask(sys.peer(leader), `setup-dht ${leader} 4 1996`, /^dht-complete: SUCCESS/, BULK_MS);
    expect(parseCounts(last)).toHaveLength(4);
  });
});
