// The diagram tool on logs of simulated runs (the real cores in the simulated World, harness.ts): the milestone's
// lifelines and message counts, the ShiViz clock rules, clocks that disagree by hours,
// fragments, duplicates, losses, and a missing log.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '../../../src/data/synthetic.js';
import { toLine } from '../../../src/data/line.js';
import type { LineDataset } from '../../../src/data/record.js';
import { readLogs } from '../../../src/diagram/read.js';
import { merge, type Merged } from '../../../src/diagram/merge.js';
import { htmlPage } from '../../../src/diagram/html.js';
import { shivizLog } from '../../../src/diagram/shiviz.js';
import { perfettoTrace } from '../../../src/diagram/perfetto.js';
import { milestone, type HarnessOptions } from './harness.js';

const YEAR = 1950;
const DATA: LineDataset = { year: YEAR, lines: generateSynthetic(YEAR, 223, 1).map(toLine), source: 'synthetic' };
const root = mkdtempSync(join(tmpdir(), 'ringdht-diagram-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the milestone with these options; returns the log files (manager first). */
async function run(name: string, opts: Partial<HarnessOptions> = {}): Promise<string[]> {
  return milestone({ dir: join(root, name), data: DATA, ...opts });
}

/** What the logs say was sent and received, counted straight from the files. */
function logged(files: string[]): { sends: number; receives: number; byType: Map<string, number> } {
  let sends = 0;
  let receives = 0;
  const byType = new Map<string, number>();
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { k: string; type?: string };
      if (e.k === 'send') {
        sends += 1;
        byType.set(e.type!, (byType.get(e.type!) ?? 0) + 1);
      } else if (e.k === 'recv') receives += 1;
    }
  }
  return { sends, receives, byType };
}

const mergeFiles = (files: string[]): Merged => merge(readLogs(files).procs);
const attrSum = (html: string, cls: RegExp): number =>
  [...html.matchAll(/<g class="([^"]*)" data-n="(\d+)"/g)].filter((m) => cls.test(m[1]!)).reduce((a, m) => a + Number(m[2]), 0);

/** Each receive is after its send in the order, in estimated time, and in vector time. */
function expectCausal(m: Merged): void {
  for (const n of m.nodes) {
    if (n.from < 0) continue;
    const s = m.nodes[n.from]!;
    expect(n.order).toBeGreaterThan(s.order);
    expect(n.time).toBeGreaterThan(s.time);
    for (let i = 0; i < m.procs.length; i++) expect(n.vc[i]!).toBeGreaterThanOrEqual(s.vc[i]!);
  }
}

let plain: string[];
beforeAll(async () => {
  plain = await run('plain');
});

describe('a milestone run', () => {
  it('has the lifelines manager and peer1..3, and every logged message', () => {
    const m = mergeFiles(plain);
    expect(m.procs.map((p) => p.name)).toEqual(['manager', 'peer1', 'peer2', 'peer3']);
    const counts = logged(plain);
    expect(m.stats).toMatchObject({ sends: counts.sends, receives: counts.receives, matched: counts.sends, lost: 0, unmatched: 0, duplicates: 0 });
    expect(counts.byType.get('store')).toBeGreaterThan(10);
    expect(counts.byType.get('set-id')).toBe(2);
    expectCausal(m);

    const html = htmlPage(m);
    expect(html.match(/<line class="life"/g)).toHaveLength(4);
    for (const name of ['manager', 'peer1', 'peer2', 'peer3']) expect(html).toContain(`data-proc="${name}"`);
    // Every message is drawn: individually, or counted in a band of bulk traffic.
    expect(attrSum(html, /^msg/) + attrSum(html, /^flow/)).toBe(counts.sends);
    expect(attrSum(html, /^flow/)).toBe((counts.byType.get('store') ?? 0) + (counts.byType.get('ack') ?? 0));
    expect(html).toContain('<option value="');
    expect(html).toContain('peer1: setup-dht peer1 3 1950');
    expect(html).not.toMatch(/(src|href)="http/);
  });

  it('makes a ShiViz log that keeps ShiViz\'s clock rules', () => {
    const m = mergeFiles(plain);
    const text = shivizLog(m).split('\n');
    const regex = new RegExp(text[0]!);
    expect(text[1]).toBe('');
    const last = new Map<string, number>();
    const events = text.slice(2).filter(Boolean);
    expect(events).toHaveLength(m.stats.events);
    for (const line of events) {
      const g = regex.exec(line)?.groups;
      expect(g, line).toBeDefined();
      const clock = JSON.parse(g!.clock!) as Record<string, number>;
      // A host's own entry starts at 1 and rises by exactly 1 per event of that host.
      expect(clock[g!.host!]).toBe((last.get(g!.host!) ?? 0) + 1);
      last.set(g!.host!, clock[g!.host!]!);
      // Nobody knows more of another host than that host has done so far.
      for (const [h, v] of Object.entries(clock)) if (h !== g!.host) expect(v).toBeLessThanOrEqual(last.get(h) ?? 0);
    }
    // A receive's clock is the pointwise max of its predecessor's and its send's, own entry + 1.
    for (const n of m.nodes.filter((x) => x.from >= 0)) {
      const s = m.nodes[n.from]!;
      const prev = m.nodes.find((x) => x.proc === n.proc && x.vc[n.proc] === n.vc[n.proc]! - 1);
      for (let i = 0; i < m.procs.length; i++) {
        const want = i === n.proc ? n.vc[i] : Math.max(prev?.vc[i] ?? 0, s.vc[i]!);
        expect(n.vc[i]).toBe(want);
      }
    }
  });

  it('makes a Perfetto trace with one flow per delivered message, each pointing forward', () => {
    const m = mergeFiles(plain);
    const trace = JSON.parse(perfettoTrace(m)) as { traceEvents: { ph: string; id?: number; ts?: number; pid: number; args?: { name?: string } }[] };
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.args?.name).map((e) => e.args!.name);
    expect(names).toEqual(['manager', 'peer1', 'peer2', 'peer3']);
    const starts = new Map(trace.traceEvents.filter((e) => e.ph === 's').map((e) => [e.id, e.ts!]));
    const ends = trace.traceEvents.filter((e) => e.ph === 'f');
    expect(ends).toHaveLength(m.stats.matched);
    for (const f of ends) expect(f.ts!).toBeGreaterThanOrEqual(starts.get(f.id)!);
  });
});

describe('logs of several hosts', () => {
  it('merge into one consistent order when local clocks disagree by hours', async () => {
    const hour = 3_600_000;
    const files = await run('skewed', { skewMs: { peer2: 3 * hour, peer3: 7 * hour, manager: 1.5 * hour } });
    // The wall clocks disagree too: the headers' first guess is hours wrong.
    const lines = readFileSync(files[2]!, 'utf8').split('\n');
    const header = JSON.parse(lines[0]!) as { wall: string };
    header.wall = new Date(Date.parse(header.wall) - 5 * hour).toISOString();
    writeFileSync(files[2]!, [JSON.stringify(header), ...lines.slice(1)].join('\n'));
    const m = mergeFiles(files);
    const counts = logged(files);
    expect(m.stats).toMatchObject({ sends: counts.sends, matched: counts.sends, lost: 0, unmatched: 0 });
    expect(m.stats.maxShiftMs).toBeGreaterThan(hour);
    expectCausal(m);
  });

  it('match messages to and from a manager listening on every interface', async () => {
    const files = await run('wildcard', { managerLogAddr: { ip: '0.0.0.0', port: 4000 } });
    expect(readFileSync(files[0]!, 'utf8')).toContain('"src":"0.0.0.0:4000"');
    const m = mergeFiles(files);
    const counts = logged(files);
    expect(m.stats).toMatchObject({ sends: counts.sends, matched: counts.sends, lost: 0, unmatched: 0, toUnlogged: 0 });
    expect(m.owners.get('127.0.0.1:4000')).toBe(0);
    expectCausal(m);
  });

  it('match fragments and network duplicates', async () => {
    const files = await run('frag-dup', { wirePayload: 300, dup: 0.2 });
    const fragmented = files.flatMap((f) => readFileSync(f, 'utf8').split('\n')).filter((l) => l.includes('"dg":'));
    expect(fragmented.length).toBeGreaterThan(0);
    const m = mergeFiles(files);
    const counts = logged(files);
    expect(m.stats.duplicates).toBeGreaterThan(0);
    expect(m.stats).toMatchObject({ sends: counts.sends, matched: counts.sends, lost: 0, unmatched: 0, duplicates: counts.receives - counts.sends });
    expectCausal(m);
    expect(htmlPage(m)).toContain('class="msg dup');
  });

  it('show lost messages, and messages from a process without a log', async () => {
    const files = await run('lossy', { loss: 0.1 });
    const m = mergeFiles(files);
    expect(m.stats.lost).toBeGreaterThan(0);
    expect(m.stats.matched + m.stats.lost).toBe(m.stats.sends);
    expectCausal(m);
    // Without the manager's log, what it sent comes from nowhere and what it got goes nowhere.
    const peers = mergeFiles(plain.slice(1));
    const fromManager = peers.nodes.filter((n) => n.e.k === 'recv' && n.e.src === '127.0.0.1:4000').length;
    expect(peers.stats.unmatched).toBe(fromManager);
    expect(peers.stats.toUnlogged).toBeGreaterThan(0);
    const html = htmlPage(peers);
    expect(html.match(/<line class="life"/g)).toHaveLength(3);
    expect(html).toContain('class="msg orphan"');
    expect(html).toContain('class="msg unlogged"');
  });
});
