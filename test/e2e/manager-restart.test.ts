// The manager survives `kill -9` (issue 8 item 4, docs/PROTOCOL.md §4.10), with real processes:
// the manager with --state FILE, 4 peers, setup-dht n = 3 on 1950; the manager is killed with
// SIGKILL and started again on the same port with the same file. No peer is restarted. A query
// typed at the Free peer during the outage is answered once the manager is back; then, within 5 s
// of the restart, every command works: another query finds a record, the leader tears the DHT
// down, every peer deregisters. The times are printed.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BULK_MS, System, ask, query } from '../../src/scenario/system.js';
import { freePorts, type DrivenProcess } from '../../src/scenario/driver.js';
import { eventIdOf } from '../../src/data/record.js';
import { DATA_DIR, records } from '../helpers/data.js';
import { run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ringdht-restart-'));
const STATE = join(dir, 'manager.jsonl');
let system: System | null = null;
let second: DrivenProcess | null = null;

afterAll(async () => {
  system?.killAll();
  second?.kill();
  await Promise.all([...(system?.all() ?? []), ...(second ? [second] : [])].map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('the manager killed with SIGKILL and started again on the same port and state file', () => {
  it('strands nobody: within 5 s of the restart every command works, no peer restarted, the DHT intact', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, managerArgs: ['--state', STATE] });
    system = sys;
    const names = ['peer1', 'peer2', 'peer3', 'peer4'];
    await sys.addPeers(names);
    const setup = await ask(sys.peer('peer1'), 'setup-dht peer1 3 1950', /^dht-complete: SUCCESS/, BULK_MS);
    const members = /leads a DHT of 3: (.*)$/.exec(setup.find((l) => l.startsWith('setup-dht: SUCCESS'))!)![1]!.split(', ');
    const free = sys.peer(names.find((n) => !members.includes(n))!);
    const ids = records(1950).map(eventIdOf);
    expect((await query(free, ids[0]!)).found).toBe(true);
    expect(readFileSync(STATE, 'utf8').split('\n').length).toBeGreaterThan(5);

    // kill -9: nothing of the process survives but the file.
    sys.manager.kill('SIGKILL');
    expect(await sys.manager.exited).toBe(137);

    // A person at the Free peer types a query while the manager is down.
    free.mark();
    free.send(`query-dht ${free.name} ${ids[1]!}`);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const restartedAt = performance.now();
    const mgr = run('dht-manager', [String(sys.managerPort), '--trace', 'summary', '--state', STATE], 'manager2');
    second = mgr;
    const restored = await mgr.waitFor(/^manager: restored /, 10_000);
    expect(restored).toBe(`manager: restored 4 peers and a DHT of 3 (ready) from ${STATE}`);
    await mgr.waitFor(/^manager: listening on /, 10_000);
    const listeningMs = performance.now() - restartedAt;

    // The query typed during the outage: its retransmission reaches the new manager.
    const during = await free.waitForLines(/^id-seq: |^query-dht: (FAILURE|no answer)/, 30_000);
    const duringMs = performance.now() - restartedAt;
    expect(during.find((l) => l.startsWith('query-dht: '))).toMatch(/^query-dht: SUCCESS/);
    expect(during).toContain(`event_id: ${ids[1]!}`);

    // Typed after the restart: a query, the teardown by the leader, a deregister from every peer.
    const typedAt = performance.now();
    const q = await query(free, ids[2]!);
    const firstTypedMs = performance.now() - typedAt;
    expect(q.found).toBe(true);
    await ask(sys.peer(members[0]!), `teardown-dht ${members[0]!}`, /^teardown-complete: SUCCESS/);
    for (const name of names) await ask(sys.peer(name), `deregister ${name}`, /^deregister: SUCCESS/);
    const allMs = performance.now() - restartedAt;
    for (const name of names) expect(await sys.peer(name).exited).toBe(0);
    mgr.send('status');
    expect(await mgr.waitFor(/^peers: /)).toBe('peers: 0 registered');
    const saves = await mgr.waitFor(/^state: /);
    expect(saves).toMatch(/^state: .*: 6 saves since start \(\d+ bytes\), [\d.]+ ms each on average \(write \+ fsync\), [\d.]+ ms at most; 0 compactions$/);
    process.stdout.write(`manager restart: ${saves}\n`);
    // No peer was restarted: each printed exactly one register SUCCESS in its life.
    for (const name of names) expect(sys.peer(name).lines.filter((l) => l.startsWith('register: SUCCESS'))).toHaveLength(1);
    process.stdout.write(`manager restart: listening again ${listeningMs.toFixed(0)} ms after the restart; ` +
      `the query typed during the outage answered ${duringMs.toFixed(0)} ms after it; a query typed then took ${firstTypedMs.toFixed(0)} ms; ` +
      `query, teardown and 4 deregisters all done ${allMs.toFixed(0)} ms after the restart\n`);
    expect(allMs).toBeLessThan(5000);
    // A second manager on the same file, while this one runs, is refused (another port: the file is what clashes).
    const [otherPort] = await freePorts(1);
    const intruder = run('dht-manager', [String(otherPort), '--state', STATE], 'intruder');
    expect(await intruder.exited).toBe(1);
    expect(intruder.lines).toEqual([`dht-manager: the state file ${STATE} is in use by process ${mgr.pid} (${STATE}.lock): two managers cannot share one state file`]);
    mgr.send('quit');
    expect(await mgr.exited).toBe(0);
  });
});

describe('dht-manager --state: a file it cannot use', () => {
  it('a corrupt file: one line, exit 1, nothing bound; --fresh sets it aside; --fresh alone is a usage error', async () => {
    const file = join(dir, 'corrupt.jsonl');
    writeFileSync(file, '{"change":{"v":1}}\n');
    const [port] = await freePorts(1);
    const bad = run('dht-manager', [String(port), '--state', file], 'corrupt');
    expect(await bad.exited).toBe(1);
    expect(bad.lines).toEqual([`dht-manager: the state file ${file} is corrupt: line 1 is not a state change (version 1): /peers Expected required property; start with --fresh to set it aside and start empty`]);
    const fresh = run('dht-manager', [String(port), '--state', file, '--fresh'], 'fresh');
    await fresh.waitFor(/^manager: listening on /);
    expect(fresh.lines[0]).toBe(`manager: --fresh: starting with no peers and no DHT; the old state is kept in ${file}.old`);
    fresh.send('quit');
    expect(await fresh.exited).toBe(0);
    const usage = run('dht-manager', [String(port), '--fresh'], 'usage');
    expect(await usage.exited).toBe(2);
    expect(usage.lines[0]).toBe('dht-manager: --fresh needs --state FILE (or DHT_STATE_FILE)');
  });
});
