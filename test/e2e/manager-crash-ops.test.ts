// The manager killed with SIGKILL in the middle of an operation (issue 8 item 7, PROTOCOL §4.10):
// right after it answered `setup-dht`, `leave-dht` and `join-dht` SUCCESS, it is killed and started
// again on the same port and state file. Each operation goes on between the peers, its final
// request (dht-complete, dht-rebuilt) is retransmitted until the new manager answers it, and the
// DHT ends ready with the hash's counts; no peer is restarted.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BULK_MS, System, parseCounts, query } from '../../src/scenario/system.js';
import type { DrivenProcess } from '../../src/scenario/driver.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, presentAndAbsent } from '../helpers/data.js';
import { run } from './helpers.js';
import { managerStatus } from './udp.js';

const dir = mkdtempSync(join(tmpdir(), 'ringdht-crash-ops-'));
const STATE = join(dir, 'manager.jsonl');
let system: System | null = null;
const managers: DrivenProcess[] = [];

afterAll(async () => {
  system?.killAll();
  for (const m of managers) m.kill();
  await Promise.all([...(system?.all() ?? []), ...managers].map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe(`the manager killed in the middle of setup, leave and join (${DATA_LABEL})`, () => {
  it('each operation completes against the restarted manager, with the right counts', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: process.env['ECHO'] === '1', managerArgs: ['--state', STATE] });
    system = sys;
    const names = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'];
    await sys.addPeers(names);
    let manager = sys.manager;

    /** Type `line` at `peer`; when it prints `accepted`, kill the manager and start it again. */
    const crashDuring = async (peer: DrivenProcess, line: string, accepted: RegExp, done: RegExp): Promise<string[]> => {
      peer.send(line);
      await peer.waitFor(accepted, 30_000);
      manager.kill('SIGKILL');
      expect(await manager.exited).toBe(137);
      manager = run('dht-manager', [String(sys.managerPort), '--trace', 'summary', '--state', STATE], `manager${managers.length + 2}`);
      managers.push(manager);
      await manager.waitFor(/^manager: listening on /, 10_000);
      return peer.waitForLines(done, BULK_MS);
    };

    // setup-dht: the manager dies once it has said SUCCESS; the leader's dht-complete reaches the new one.
    const setup = await crashDuring(sys.peer('peer1'), 'setup-dht peer1 5 1996', /^setup-dht: SUCCESS/, /^dht-complete: (SUCCESS|FAILURE)/);
    expect(setup.at(-1)).toMatch(/^dht-complete: SUCCESS/);
    expect(parseCounts(setup).map((c) => c.count)).toEqual(expectedCounts(1996, 5));
    const ring = parseCounts(setup).map((c) => c.name);
    const free = names.find((n) => !ring.includes(n))!;

    // leave-dht by node 2: the manager dies after its SUCCESS; dht-rebuilt reaches the new one.
    const leaver = ring[2]!;
    const leave = await crashDuring(sys.peer(leaver), `leave-dht ${leaver}`, /^leave-dht: SUCCESS/, /^dht-rebuilt: (SUCCESS|FAILURE)/);
    expect(leave.at(-1)).toMatch(/^dht-rebuilt: SUCCESS/);
    const afterLeave = await managerStatus(manager);
    expect(afterLeave.dht).toMatch(/^DHT: ready, year 1996, leader \S+, 4 members/);

    // join-dht by the leaver: the same.
    const join = await crashDuring(sys.peer(leaver), `join-dht ${leaver}`, /^join-dht: SUCCESS/, /^dht-rebuilt: (SUCCESS|FAILURE)/);
    expect(join.at(-1)).toMatch(/^dht-rebuilt: SUCCESS/);
    const afterJoin = await managerStatus(manager);
    expect(afterJoin.dht).toMatch(/^DHT: ready, year 1996, leader \S+, 5 members/);

    // The DHT answers, and no peer was restarted.
    const { present, absent } = presentAndAbsent();
    expect((await query(sys.peer(free), present[0])).found).toBe(true);
    const missing = await query(sys.peer(free), absent[0]);
    expect(missing.notFoundLine).toBe(true);
    for (const name of names) expect(sys.peer(name).lines.filter((l) => l.startsWith('register: SUCCESS'))).toHaveLength(1);
  });
});
