// Keyed mode (PROTOCOL §2.5) with real processes: every datagram sealed with the cluster's key.
// The acceptance scenario works as in default mode; a process without the key, or with another
// cluster's, gets nothing done and is reported in a rate-limited line; keys rotate in the middle
// of a run (SIGHUP re-reads the key file) without a restart and without losing a command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFull } from '../../src/scenario/scenarios.js';
import { System, ask, parseCounts, query } from '../../src/scenario/system.js';
import { DATA_DIR, DATA_LABEL, expectedCounts } from '../helpers/data.js';
import { Probe, managerStatus } from './udp.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ringdht-keys-'));
const key = (): string => randomBytes(32).toString('base64');
const A = key();
const B = key();
function keyFile(name: string, keys: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, keys.join('\n') + '\n', { mode: 0o600 });
  return file;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`keyed mode: the full scenario (${DATA_LABEL})`, () => {
  it('gives the same counts and answers as default mode', async () => {
    const file = keyFile('cluster.key', [A]);
    const args = ['--key-file', file];
    const facts = await runFull({ dataDir: DATA_DIR, trace: 'summary', managerArgs: args, peerArgs: args });
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
    expect(facts.setup.counts).toEqual(expectedCounts(1996, 5));
    expect(facts.ok).toBe(true);
  }, 300_000);
});

describe('keyed mode: strangers and rotation', () => {
  let sys: System;
  const file = keyFile('rotating.key', [A]);

  beforeAll(async () => {
    sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, managerArgs: ['--key-file', file], peerArgs: ['--key-file', file] });
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4']);
  }, 60_000);

  afterAll(() => sys?.killAll());

  it('a plain datagram from a stranger is refused in one line and never answered', async () => {
    const probe = await Probe.open();
    try {
      sys.manager.mark();
      await probe.send(sys.managerPort, { t: 'cmd', rid: 1, cmd: 'register', args: ['mallory', '127.0.0.1', String(probe.port), '9'] });
      const line = await sys.manager.waitFor(/refused a datagram from 127\.0\.0\.1:\d+: /);
      expect(line).toContain(`127.0.0.1:${probe.port}`);
      // The manager refuses before its core sees the datagram: nothing can have been sent back.
      expect(probe.received).toEqual([]);
      await ask(sys.manager, 'status', /^peers: 4 registered$/);
    } finally {
      probe.close();
    }
  });

  it('a peer with another cluster\'s key cannot even register', async () => {
    const other = keyFile('other.key', [B]);
    await sys.addPeersWith(['eve'], ['--key-file', other, '--rto', '50', '--tries', '2'], /^register: FAILURE NO_RESPONSE/);
    await sys.manager.waitFor(/refused a datagram .*key/);
    sys.peer('eve').kill();
    await ask(sys.manager, 'status', /^peers: 4 registered$/);
  }, 60_000);

  it('keys rotate in the middle of a run: add the new key, seal with it, retire the old one', async () => {
    const [p1] = [5536849];
    const lines = await ask(sys.peer('peer1'), 'setup-dht peer1 3 1950', /^dht-complete: SUCCESS/, 120_000);
    expect(parseCounts(lines).map((c) => c.count)).toEqual(expectedCounts(1950, 3));
    const everyone = [sys.manager, ...['peer1', 'peer2', 'peer3', 'peer4'].map((n) => sys.peer(n))];
    const rotate = async (keys: string[]): Promise<void> => {
      keyFile('rotating.key', keys);
      for (const p of everyone) p.mark();
      for (const p of everyone) p.kill('SIGHUP');
      await Promise.all(everyone.map((p) => p.waitFor(/keys: re-read .*sealing with key/)));
    };
    await rotate([A, B]); // step 1: everyone can open B
    await rotate([B, A]); // step 2: everyone seals with B, still opens A
    const free = [...(await managerStatus(sys.manager)).peers.values()].find((p) => p.state === 'Free' && p.name !== 'eve')!;
    const answer = await query(sys.peer(free.name), p1);
    expect(answer.notFoundLine || answer.found).toBe(true);
    await rotate([B]); // step 3: A retired
    await ask(sys.peer('peer1'), 'teardown-dht peer1', /^teardown-complete: SUCCESS/, 60_000);
    await ask(sys.peer(free.name), `deregister ${free.name}`, /^deregister: SUCCESS/);
  }, 180_000);
});
