// The simulation's event logs (src/sim/logs.ts): the format of the programs' --log files, in
// virtual time, the same bytes for the same seed, a second header for a restarted process, and
// `npm run sim -- --seed N --log DIR` options that round-trip through the replay command.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toLine } from '../../src/data/line.js';
import { DEFAULT_MAX_PAYLOAD } from '../../src/protocol/codec.js';
import { readLogs, readTexts } from '../../src/diagram/read.js';
import { merge } from '../../src/diagram/merge.js';
import { SimLogs } from '../../src/sim/logs.js';
import { LOSSY_RETRY, smallDataset } from '../../src/sim/scenario.js';
import { World } from '../../src/sim/world.js';
import { DEFAULTS, parseSimArgs, replayArgs, runSeed, loadSimData } from '../../src/sim/run.js';

const root = mkdtempSync(join(tmpdir(), 'ringdht-simlogs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = smallDataset(1950, 60, 1);

/** Two peers register, peer2 is killed and restarted, registers again; the logs' texts. */
function crashRun(seed: number): { file: string; text: string }[] {
  const logs = new SimLogs();
  const world = new World({
    seed, faults: { loss: 0.1, dup: 0.05, reorder: 0.1 },
    manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY },
    peer: { retry: LOSSY_RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 30_000 },
    datasets: new Map([[1950, { year: 1950, lines: data.records.map(toLine), source: 'simulation' }]]),
    observe: logs.observe,
  });
  const register = (name: string, port: number): void => {
    const p = world.peer(name);
    const from = p.prints.length;
    world.type(name, `register ${name} 127.0.0.1 ${port} ${port + 1}`);
    expect(world.runUntil(() => p.prints.slice(from).some((l) => l.startsWith('register: ')), 60_000)).toBe(true);
  };
  world.addPeer('peer1', 5000, 5001);
  world.addPeer('peer2', 5002, 5003);
  register('peer1', 5000);
  register('peer2', 5002);
  world.kill('peer2');
  world.restart('peer2');
  register('peer2', 5004);
  world.settle(1_000);
  return logs.texts();
}

describe('simulated event logs', () => {
  it('are the same bytes for the same seed, and differ for another', () => {
    expect(crashRun(7)).toEqual(crashRun(7));
    expect(crashRun(8)).not.toEqual(crashRun(7));
  });

  it('give a restarted process a second header, and the diagram a second lifeline', () => {
    const texts = crashRun(7);
    expect(texts.map((t) => t.file)).toEqual(['manager.jsonl', 'peer1.jsonl', 'peer2.jsonl']);
    const peer2 = texts[2]!.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { k: string; host?: string; t: number });
    const headers = peer2.filter((l) => l.k === 'header');
    expect(headers).toHaveLength(2);
    expect(headers[0]).toMatchObject({ proc: 'peer2', host: 'sim', pid: 1, wall: '2000-01-01T00:00:00.000Z', t: 0 });
    expect(headers[1]!.t).toBeGreaterThan(0);
    const m = merge(readTexts(texts).procs);
    expect(m.procs.map((p) => p.name)).toEqual(['manager', 'peer1', 'peer2', 'peer2#2']);
    // Every receive comes from a logged process (or is a network duplicate of a logged send).
    expect(m.stats.unmatched).toBe(0);
    for (const n of m.nodes) if (n.from >= 0) expect(m.nodes[n.from]!.order).toBeLessThan(n.order);
  });

  it('are written with the diagram by npm run sim -- --seed N --log DIR', () => {
    const dir = join(root, 'one');
    const o = parseSimArgs(['--seed', '4', '--records', '200', '--log', dir]);
    expect(o).toMatchObject({ firstSeed: 4, seeds: 1, log: dir });
    const r = runSeed(o, 4, loadSimData(o));
    expect(r.ok).toBe(true);
    expect(r.diagram).toBe(join(dir, 'diagram.html'));
    expect(readFileSync(r.diagram!, 'utf8')).toMatch(/^<!doctype html>/);
    const manager = readFileSync(join(dir, 'manager.jsonl'), 'utf8');
    expect(JSON.parse(manager.split('\n')[0]!)).toMatchObject({ k: 'header', proc: 'manager', host: 'sim' });
    // The replay command names the same directory, and the same seed.
    expect(parseSimArgs(replayArgs(o, 4))).toMatchObject({ firstSeed: 4, seeds: 1, log: dir });
    // Several seeds: one directory each.
    const many = parseSimArgs(['--seeds', '2', '--log', dir]);
    expect(replayArgs(many, 2)).toContain(join(dir, 'seed-2'));
    expect(replayArgs({ ...DEFAULTS }, 2)).not.toContain('--log');
    expect(() => parseSimArgs(['--seed', '1', '--seeds', '3'])).toThrow(/one seed/);
  });

  it('merge into one order under loss, duplicates and reordering: every receive matched, none before its send', () => {
    // Seed 2 once had 32 receives left unmatched: a network duplicate waited for a
    // retransmission that itself waited on the duplicate's receiver.
    for (const seed of [1, 2, 3]) {
      const dir = join(root, `chaos-${seed}`);
      const o = parseSimArgs(['--seed', String(seed), '--records', '300', '--loss', '0.2', '--dup', '0.05', '--reorder', '0.1', '--log', dir]);
      expect(runSeed(o, seed, loadSimData(o)).ok).toBe(true);
      const m = merge(readLogs(['manager', 'peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'].map((p) => join(dir, `${p}.jsonl`))).procs);
      expect(m.stats.unmatched, `seed ${seed}`).toBe(0);
      expect(m.stats.lost).toBeGreaterThan(0);
      expect(m.stats.duplicates).toBeGreaterThan(0);
      for (const n of m.nodes) {
        if (n.from < 0) continue;
        const s = m.nodes[n.from]!;
        expect(n.order).toBeGreaterThan(s.order);
        for (let i = 0; i < m.procs.length; i++) expect(n.vc[i]!).toBeGreaterThanOrEqual(s.vc[i]!);
      }
    }
  });
});
