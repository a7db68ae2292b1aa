// Compressed store batches with real processes (`dht-peer --compress`, PROTOCOL §4.6): the full
// scenario in plain mode with --compress on gives the same counts and answers as without; in
// keyed mode a leader compresses by default (auto) and one started with --compress off does not,
// in the same ring, with the same counts: every peer reads both forms, only the leader's setting
// matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runFull } from '../../src/scenario/scenarios.js';
import { System, ask, parseCounts, query } from '../../src/scenario/system.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, queryIds } from '../helpers/data.js';

describe(`plain mode with --compress on: the full scenario (${DATA_LABEL})`, () => {
  it('gives the same counts and answers as without compression', async () => {
    const facts = await runFull({ dataDir: DATA_DIR, trace: 'summary', peerArgs: ['--compress', 'on'] });
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
    expect(facts.setup.counts).toEqual(expectedCounts(1996, 5));
    expect(facts.ok).toBe(true);
  }, 300_000);
});

describe('keyed mode: the leader\'s --compress decides', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringdht-zkeys-'));
  const file = path.join(dir, 'cluster.key');
  let sys: System;

  beforeAll(async () => {
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, managerArgs: ['--key-file', file], peerArgs: ['--key-file', file] });
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4', 'peer5']);
    await sys.addPeersWith(['peer6'], ['--compress', 'off'], /^register: SUCCESS/);
  }, 60_000);

  afterAll(() => {
    sys?.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [leader, compressed] of [['peer1', true], ['peer6', false]] as const) {
    it(`${leader} (${compressed ? 'auto: on in keyed mode' : '--compress off'}) leads a setup of 5: ${compressed ? 'compressed' : 'plain'} batches, the counts of every node as in the SPEC`, async () => {
      const lines = await ask(sys.peer(leader), `setup-dht ${leader} 5 1996`, /^dht-complete: SUCCESS/, 120_000);
      const nodes = parseCounts(lines);
      expect(nodes.map((c) => c.count)).toEqual(expectedCounts(1996, 5));
      const summary = lines.find((l) => l.startsWith('store: kept'));
      expect(summary).toBeDefined();
      if (compressed) expect(summary).toMatch(/ \(compressed ×\d+\.\d\)$/);
      else expect(summary).not.toMatch(/compressed/);
      const [found] = queryIds();
      const free = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'].find((p) => !nodes.some((n) => n.name === p))!;
      const q = await query(sys.peer(free), found);
      expect(q.found).toBe(true);
      await ask(sys.peer(leader), `teardown-dht ${leader}`, /^teardown-dht: done in /, 120_000);
    }, 180_000);
  }
});
