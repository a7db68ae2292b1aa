// Failure detection with real processes (PROTOCOL §4.11), on by default. A Free peer killed with
// SIGKILL is declared dead and deregistered within a few seconds, and the program started again
// registers with its old name and ports; a member killed with SIGKILL in the middle of a setup:
// the setup ends (the leader aborts it, or the manager dissolves it when it declares the death),
// the dead peer is deregistered, and a new DHT can be set up at once. (A death in a ready DHT is
// repaired: test/e2e/repair.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask, binPath } from '../../src/scenario/system.js';
import { startProcess, type DrivenProcess } from '../../src/scenario/driver.js';
import { DATA_DIR } from '../helpers/data.js';
import { managerStatus } from './udp.js';

let system: System | null = null;
const extra: DrivenProcess[] = [];

afterAll(async () => {
  for (const p of extra) p.kill();
  if (!system) return;
  system.killAll();
  await Promise.all([...system.all(), ...extra].map((p) => p.exited));
});

describe('dht-manager detects dead peers', () => {
  it('declares a killed peer dead within seconds: a Free one is deregistered and may register again; a setup that loses a member ends cleanly', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, });
    system = sys;
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4', 'peer5']);
    const before = await managerStatus(sys.manager);
    const p5 = before.peers.get('peer5')!;

    // A Free peer dies (after its first heartbeats: until the first one, a peer just registered
    // has a grace of 10 s, PROTOCOL §4.11).
    await new Promise((r) => setTimeout(r, 800));
    const killedAt = Date.now();
    sys.peer('peer5').kill('SIGKILL');
    expect(await sys.peer('peer5').exited).toBe(137);
    await sys.manager.waitFor(/^liveness: peer5 declared dead \(nothing heard from it for 1\.\d s, probes unanswered\)$/, 10_000);
    const took = Date.now() - killedAt;
    await sys.manager.waitFor(/^liveness: peer5 deregistered; 4 peers remain$/, 5_000);
    process.stdout.write(`detect: a killed Free peer was declared dead ${took} ms after SIGKILL\n`);

    // The program started again takes its old name and ports.
    const again = startProcess('peer5-again', process.execPath, [binPath('dht-peer'), '127.0.0.1', String(sys.managerPort), '--data-dir', DATA_DIR, '--trace', 'summary'], process.env, { echo: false });
    extra.push(again);
    const lines = await ask(again, `register peer5 ${p5.ip} ${p5.mport} ${p5.pport}`, /^register: SUCCESS/);
    expect(lines.at(-1)).toMatch(/^register: SUCCESS — peer5 registered at 127\.0\.0\.1/);

    // A member dies in the middle of a setup (when it takes its id, before the records flow).
    sys.peer('peer1').send('setup-dht peer1 3 1996');
    const chosen = await sys.peer('peer1').waitFor(/^setup-dht: (SUCCESS|FAILURE)/, 30_000);
    const members = /: (peer\d), (peer\d), (peer\d)$/.exec(chosen)!.slice(1);
    const victim = members[1]!;
    const victimProc = victim === 'peer5' ? again : sys.peer(victim);
    await victimProc.waitFor(/^set-id: I am node/, 30_000);
    victimProc.kill('SIGKILL');
    await sys.manager.waitFor(new RegExp(`^liveness: ${victim} deregistered`), 15_000);
    await sys.peer('peer1').waitFor(/^(dht-abort: SUCCESS|dissolved: )/, 30_000);
    const after = await managerStatus(sys.manager);
    expect(after.dht).toBe('DHT: none');
    expect(after.peers.has(victim)).toBe(false);
    // A new DHT without the dead member.
    const setup = await ask(sys.peer('peer1'), 'setup-dht peer1 3 1996', /^dht-complete: SUCCESS/, 60_000);
    expect(setup.find((l) => l.startsWith('setup-dht: SUCCESS'))).not.toContain(victim);
  });
});
