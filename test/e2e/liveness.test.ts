// A leader that dies in the middle of setup must not wedge the system (PROTOCOL §4.8): real
// processes, the manager with --wait-timeout 3 and --no-detect (this is the fallback when failure
// detection is off; with it, the death is declared within 2 s: detect.test.ts). peer1 starts `setup-dht peer1 3 1996` and is
// killed with SIGKILL the moment it prints `setup-dht: SUCCESS`. The manager gives up waiting for
// dht-complete, dissolves the DHT and frees its members; then another peer sets a DHT up.
//
// Without detection the dead peer1 stays registered, so the manager may pick it
// as a member of the next DHT; the new leader's set-id to it then goes unacknowledged and the leader
// aborts. That is retried a bounded number of times (each try leaves peer1 out with probability
// 1/3, so 30 tries all failing has probability (2/3)³⁰ ≈ 5·10⁻⁶). Small --rto/--tries make the
// dead member show up in ~1.5 s instead of ~20 s.
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask, parseCounts, ScenarioError } from '../../src/scenario/system.js';
import { DATA_DIR, expectedCounts } from '../helpers/data.js';
import { managerStatus } from './udp.js';

const MAX_ATTEMPTS = 30;
const PEER_ARGS = ['--rto', '50', '--tries', '5'];
let system: System | null = null;

afterAll(async () => {
  if (!system) return;
  system.killAll();
  await Promise.all(system.all().map((p) => p.exited));
});

describe('a leader killed during setup', () => {
  it('is given up on after the wait timeout, and a new DHT can then be set up without it', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, managerArgs: ['--wait-timeout', '3', '--no-detect'], peerArgs: PEER_ARGS });
    system = sys;
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4']);

    // peer1 leads a setup and dies as soon as the manager has said yes.
    const peer1 = sys.peer('peer1');
    peer1.send('setup-dht peer1 3 1996');
    const success = await peer1.waitFor(/^setup-dht: (SUCCESS|FAILURE)/);
    expect(success).toMatch(/^setup-dht: SUCCESS — peer1 leads a DHT of 3: peer1, /);
    peer1.kill('SIGKILL');
    expect(await peer1.exited).toBe(137);
    const firstMembers = /leads a DHT of 3: (.*)$/.exec(success)![1]!.split(', ').slice(1);

    // The manager stops waiting for dht-complete, dissolves the DHT, and tells the members.
    const gaveUp = await sys.manager.waitFor(/gave up waiting for dht-complete/, 30_000);
    expect(gaveUp).toMatch(/^the manager gave up waiting for dht-complete from peer1 after 3 s; the DHT is dissolved and its peers are Free$/);
    for (const name of firstMembers) await sys.peer(name).waitFor(/^dissolved: /, 30_000);
    const afterGiveUp = await managerStatus(sys.manager);
    expect(afterGiveUp.dht).toBe('DHT: none');
    expect([...afterGiveUp.peers.values()].map((p) => p.state)).toEqual(['Free', 'Free', 'Free', 'Free']);

    // Another peer sets a DHT up; a try that picks the dead peer1 ends in an abort and is repeated.
    const leader = sys.peer('peer2');
    const triesStart = leader.lines.length;
    const failures: string[] = [];
    let lines: string[] | null = null;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && lines === null; attempt++) {
      try {
        lines = await ask(leader, 'setup-dht peer2 3 1996', /^dht-complete: SUCCESS/, 60_000);
      } catch (err) {
        if (!(err instanceof ScenarioError)) throw err;
        failures.push(err.message.split('\n')[0]!);
        // `status` runs only once the console is idle: everything this try prints comes before it.
        leader.send('status');
        await leader.waitFor(/^status: /);
      }
    }
    process.stdout.write(`liveness: setup by peer2 completed after ${failures.length} failed tries\n${failures.map((f) => `  ${f}\n`).join('')}`);
    expect(lines, `no successful setup in ${MAX_ATTEMPTS} tries:\n${failures.join('\n')}`).not.toBeNull();
    // Every failed try failed because it picked the dead peer1: the leader says so and aborts (or,
    // if the retries outlast the manager's 3 s, the manager gives up and dissolves the DHT).
    const tries = leader.lines.slice(triesStart);
    const aborts = tries.filter((l) => /^setup-dht: peer1 \(127\.0\.0\.1:\d+\) did not acknowledge set-id after 5 tries$/.test(l));
    const givenUp = tries.filter((l) => /^dissolved: the manager gave up waiting for dht-complete from peer2/.test(l));
    expect(aborts.length + givenUp.length).toBe(failures.length);
    for (const f of failures) expect(f).toMatch(/ failed: (dht-abort: SUCCESS|dissolved: )/);
    const answer = lines!.find((l) => l.startsWith('setup-dht: SUCCESS'))!;
    expect(answer).toMatch(/^setup-dht: SUCCESS — peer2 leads a DHT of 3: peer2, peer[34], peer[34]$/);
    expect(lines![lines!.length - 1]).toMatch(/^dht-complete: SUCCESS/);
    const nodes = parseCounts(lines!);
    expect(nodes.map((n) => n.name)).not.toContain('peer1');
    expect(nodes.map((n) => n.count)).toEqual(expectedCounts(1996, 3));

    // The system is usable: tear down, everyone alive deregisters and exits 0.
    await ask(leader, 'teardown-dht peer2', /^teardown-complete: SUCCESS/);
    for (const name of ['peer2', 'peer3', 'peer4']) {
      // Their consoles still hold the `dissolved:` lines of the failed tries; only new lines answer.
      sys.peer(name).mark();
      await ask(sys.peer(name), `deregister ${name}`, /^deregister: SUCCESS/);
      expect(await sys.peer(name).exited).toBe(0);
    }
    const final = await managerStatus(sys.manager);
    expect([...final.peers.keys()]).toEqual(['peer1']); // the dead peer is still registered (PROTOCOL §8)
    sys.manager.send('quit');
    expect(await sys.manager.exited).toBe(0);
  }, 300_000);
});
