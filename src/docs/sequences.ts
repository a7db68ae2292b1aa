// The sequence diagrams of docs/PROTOCOL.md §5, generated: one deterministic seeded simulation
// (clean network, a small synthetic year) runs the commands of §5 with the real cores, its event
// logs (sim/logs.ts) are merged as `npm run diagram` merges real ones (diagram/merge.ts), and
// each command's wake (every event whose latest console command in its causal past is that
// command) becomes a mermaid `sequenceDiagram`. Store batches and acks are folded into one
// counted arrow per sender → receiver. tables.ts lists one entry per command, so the docs test
// fails when a change to the protocol makes a diagram stale (`npm run docs:tables` rewrites).
import { toLine } from '../data/line.js';
import { COLUMNS } from '../data/record.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import { readTexts } from '../diagram/read.js';
import { merge, type Merged, type Node } from '../diagram/merge.js';
import { SimLogs } from '../sim/logs.js';
import { World } from '../sim/world.js';
import { smallDataset } from '../sim/scenario.js';
import type { RetryPolicy } from '../reliable/index.js';

/** The commands with a generated diagram, in the order of §5. */
export const SEQUENCE_COMMANDS = ['register', 'setup-dht', 'query-dht', 'leave-dht', 'join-dht', 'teardown-dht', 'deregister'] as const;
export type SequenceCommand = (typeof SEQUENCE_COMMANDS)[number];

/** The run's parameters, named in each diagram's caption. */
const SEED = 1;
const YEAR = 1950;
const RECORDS = 40;
const PEERS = 4;
const N = 3;
const RETRY: RetryPolicy = { rtoMs: 200, minRtoMs: 50, maxRtoMs: 3_200, maxTries: 10 };

interface Recorded { merged: Merged; consoles: Map<SequenceCommand, number>; }

let cached: Recorded | null = null;

/** The seeded run, once per process: every command of §5, typed at a console and run to its end. */
function recorded(): Recorded {
  if (cached) return cached;
  const data = smallDataset(YEAR, RECORDS, SEED);
  const logs = new SimLogs();
  const world = new World({
    seed: SEED, faults: { loss: 0, dup: 0, reorder: 0 }, latency: 'lan',
    manager: { waitTimeoutMs: 60_000, retry: RETRY },
    peer: { retry: RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 30_000 },
    datasets: new Map([[YEAR, { year: YEAR, lines: data.records.map(toLine), source: 'simulation' }]]),
    observe: logs.observe,
  });
  const command = (name: string, text: string, done: string): void => {
    const p = world.peer(name);
    const from = p.prints.length;
    world.type(name, text);
    const ok = world.runUntil(() => p.core.idle && p.prints.slice(from).some((l) => l.startsWith(done)), 600_000);
    if (!ok) throw new Error(`docs: '${text}' at ${name} did not print '${done}': ${p.prints.slice(from).slice(-5).join(' | ')}`);
    // Delayed acks and the last retransmission timers play out before the next command.
    world.settle(1_000);
  };
  const names = Array.from({ length: PEERS }, (_, i) => `peer${i + 1}`);
  names.forEach((name, i) => {
    world.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
    command(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`, 'register: SUCCESS');
  });
  command('peer1', `setup-dht peer1 ${N} ${YEAR}`, 'dht-complete: SUCCESS');
  const ring = (): string[] => world.peer(world.manager.dht!.leader).core.ring!.peers.map((t) => t.name);
  const free = names.find((n) => !ring().includes(n))!;
  command(free, `query-dht ${free} ${data.queries[0]}`, 'id-seq:');
  const leaver = ring()[1]!;
  command(leaver, `leave-dht ${leaver}`, 'dht-rebuilt: SUCCESS');
  command(free, `join-dht ${free}`, 'dht-rebuilt: SUCCESS');
  const leader = world.manager.dht!.leader;
  command(leader, `teardown-dht ${leader}`, 'teardown-complete: SUCCESS');
  for (const name of names) command(name, `deregister ${name}`, 'deregister: SUCCESS');

  const merged = merge(readTexts(logs.texts()).procs);
  // The first console line of each command is the one its diagram shows.
  const consoles = new Map<SequenceCommand, number>();
  for (const id of merged.order) {
    const e = merged.nodes[id]!.e;
    if (e.k !== 'console') continue;
    const cmd = e.text.split(' ')[0] as SequenceCommand;
    if (SEQUENCE_COMMANDS.includes(cmd) && !consoles.has(cmd)) consoles.set(cmd, id);
  }
  cached = { merged, consoles };
  return cached;
}

/** Types of the folded bulk traffic. */
const FOLDED = new Set(['store', 'ack']);

/** A message's label: its trace description without request ids and addresses, mermaid-safe. */
function label(d: string): string {
  return safe(d.replace(/\s*\(rid \d+\)/g, '').replace(/ \d+\.\d+\.\d+\.\d+:\d+/g, '').replace(/^ack rid \d+$/, 'ack'));
}

/** `;` and `#` mean something to mermaid; times would change every run (none should get here). */
function safe(text: string): string {
  return text.replace(/;/g, ',').replace(/#/g, 'no. ').replace(/—/g, '-');
}

/** A printed line worth a note: not the 14 fields of a record (id-seq follows them), nor a timing. */
function shownPrint(text: string): boolean {
  if (/ in [\d.]+ ms\b/.test(text)) return false;
  const field = /^([a-z_]+): /.exec(text)?.[1];
  return !(field && (COLUMNS as readonly string[]).includes(field));
}

/** The mermaid text of one command's diagram. */
export function renderSequence(command: SequenceCommand): string {
  const { merged: m, consoles } = recorded();
  const start = consoles.get(command);
  if (start === undefined) throw new Error(`docs: the seeded run typed no ${command}`);
  const wake = m.order.map((id) => m.nodes[id]!).filter((n) => n.span === start);
  const name = (n: Node): string => m.procs[n.proc]!.name;
  const participants: string[] = [];
  const see = (p: string): void => { if (!participants.includes(p)) participants.push(p); };
  const lines: string[] = [];
  /** Folded bulk traffic of the current run of store batches: one counted arrow per direction and type. */
  let bulk: { key: string; from: string; to: string; type: string; count: number; records: number }[] | null = null;
  const flush = (): void => {
    if (!bulk) return;
    lines.push('    loop store batches, folded (each arrow counts the messages of one sender to one receiver)');
    for (const b of bulk) {
      const what = b.type === 'store' ? `store ×${b.count} (${b.records} records)` : `ack ×${b.count}`;
      lines.push(`        ${b.from}${b.type === 'ack' ? '-->>' : '->>'}${b.to}: ${what}`);
    }
    lines.push('    end');
    bulk = null;
  };
  let notes: { proc: string; texts: string[] } | null = null;
  const flushNotes = (): void => {
    if (notes) lines.push(`    Note over ${notes.proc}: ${notes.texts.map(safe).join('<br/>')}`);
    notes = null;
  };
  for (const n of wake) {
    const e = n.e;
    if (e.k === 'console' || e.k === 'print' || (e.k === 'state' && e.text.startsWith('exit'))) {
      const text = e.k === 'console' ? `typed: ${e.text}` : e.text;
      if (e.k === 'print' && !shownPrint(text)) continue;
      see(name(n));
      flush();
      if (notes && notes.proc !== name(n)) flushNotes();
      notes ??= { proc: name(n), texts: [] };
      notes.texts.push(text);
      continue;
    }
    if (e.k !== 'send') continue; // a receive is the head of its send's arrow
    for (const r of n.to.length > 0 ? n.to : [-1]) {
      const from = name(n);
      const to = r >= 0 ? name(m.nodes[r]!) : `${e.dst} (no log)`;
      see(from);
      see(to);
      flushNotes();
      if (FOLDED.has(e.type) && (e.type === 'store' || bulk)) {
        bulk ??= [];
        const key = `${from}>${to}:${e.type}`;
        let b = bulk.find((x) => x.key === key);
        if (!b) bulk.push((b = { key, from, to, type: e.type, count: 0, records: 0 }));
        b.count += 1;
        b.records += Number(/^store (\d+) record/.exec(e.d)?.[1] ?? 0);
        continue;
      }
      if (e.type !== 'ack') flush();
      const arrow = e.type === 'ack' || e.type === 'res' ? '-->>' : '->>';
      lines.push(`    ${from}${arrow}${to}: ${label(e.d)}${r < 0 ? ' (never received)' : ''}`);
    }
  }
  flush();
  flushNotes();
  return [
    '```mermaid',
    'sequenceDiagram',
    ...participants.map((p) => `    participant ${p}`),
    ...lines,
    '```',
  ].join('\n');
}

/** The caption under each generated diagram: where it comes from. */
export function sequenceCaption(): string {
  return `Generated (\`npm run docs:tables\`, src/docs/sequences.ts) from the event logs of a seeded simulation ` +
    `(seed ${SEED}, clean network, ${PEERS} peers, ${RECORDS} synthetic records of ${YEAR}, DHT of ${N}); ` +
    'per-hop acks are shown, store batches folded.';
}
