// SPEC §6 milestone with real processes: 3 peers, setup-dht n = 3 on 1950 (the course file: 72,
// 75, 76; synthetic data of the same size: the counts the hash gives for it). Every process
// keeps its event log (--log), and the run's time-space diagram is checked against the logs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMilestone } from '../../src/scenario/scenarios.js';
import { scenarioLogs, writeDiagram } from '../../src/scenario/diagram.js';
import { readLogs } from '../../src/diagram/read.js';
import { merge } from '../../src/diagram/merge.js';
import { shivizLog } from '../../src/diagram/shiviz.js';
import { DATA_DIR, DATA_LABEL, expectedCounts } from '../helpers/data.js';

const logDir = mkdtempSync(join(tmpdir(), 'ringdht-milestone-logs-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe(`milestone scenario (real processes, 1950, n = 3, ${DATA_LABEL})`, () => {
  const expected = expectedCounts(1950, 3);
  it(`stores ${expected.join(', ')} records on nodes 0, 1, 2, completes, and shuts down cleanly`, async () => {
    const facts = await runMilestone({ dataDir: DATA_DIR, trace: 'summary', logDir });
    expect(facts.data.synthetic).toBe(false); // the directory given was used, nothing made up
    expect(facts.data.dir).toBe(DATA_DIR);
    expect(facts.data.recordCount).toBe(223);
    expect(facts.data.s).toBe(449);
    expect(facts.setup.nodes.map((n) => n.id)).toEqual([0, 1, 2]);
    expect(facts.setup.counts).toEqual(expected);
    expect(facts.setup.leader).toBe('peer1');
    expect(facts.setup.answer).toMatch(/^dht-complete: SUCCESS/);
    expect(facts.exitCodes).toEqual({ peer1: 0, peer2: 0, peer3: 0, manager: 0 });
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('leaves event logs whose diagram has the four lifelines, every message, and ShiViz\'s clock rules', () => {
    const files = scenarioLogs(logDir);
    expect(files.map((f) => f.slice(logDir.length + 1))).toEqual(['manager.jsonl', 'peer1.jsonl', 'peer2.jsonl', 'peer3.jsonl']);
    // What the logs say was sent, counted straight from the files.
    let sends = 0;
    for (const f of files) for (const l of readFileSync(f, 'utf8').split('\n').filter(Boolean)) if ((JSON.parse(l) as { k: string }).k === 'send') sends += 1;
    expect(sends).toBeGreaterThan(30);

    const d = writeDiagram(logDir, 'milestone')!;
    expect(d.file).toBe(join(logDir, 'diagram.html'));
    const html = readFileSync(d.file, 'utf8');
    expect(html.match(/<line class="life"/g)).toHaveLength(4);
    for (const name of ['manager', 'peer1', 'peer2', 'peer3']) expect(html).toContain(`data-proc="${name}"`);
    const drawn = [...html.matchAll(/<g class="(msg|flow)[^"]*" data-n="(\d+)"/g)].reduce((a, m) => a + Number(m[2]), 0);
    expect(drawn).toBe(sends);

    const m = merge(readLogs(files).procs);
    expect(m.procs.map((p) => p.name)).toEqual(['manager', 'peer1', 'peer2', 'peer3']);
    // Loopback loses nothing, and every process wrote its log to the end (closed before exit).
    expect(m.stats).toMatchObject({ sends, matched: sends, lost: 0, unmatched: 0, toUnlogged: 0 });

    const text = shivizLog(m).split('\n');
    const regex = new RegExp(text[0]!);
    const own = new Map<string, number>();
    const events = text.slice(2).filter(Boolean);
    expect(events).toHaveLength(m.stats.events);
    for (const line of events) {
      const g = regex.exec(line)?.groups;
      expect(g, line).toBeDefined();
      const clock = JSON.parse(g!.clock!) as Record<string, number>;
      // Each host's own component starts at 1 and rises by exactly 1 per event.
      expect(clock[g!.host!]).toBe((own.get(g!.host!) ?? 0) + 1);
      own.set(g!.host!, clock[g!.host!]!);
    }
    // A receive's clock dominates its send's.
    for (const n of m.nodes) {
      if (n.from < 0) continue;
      const s = m.nodes[n.from]!;
      for (let i = 0; i < m.procs.length; i++) expect(n.vc[i]!).toBeGreaterThanOrEqual(s.vc[i]!);
      expect(n.vc[n.proc]!).toBeGreaterThan(s.vc[n.proc]!);
    }
  });
});
