// The acceptance scenarios of SPEC §6, run with real processes on loopback. Each returns the
// facts it observed and the checks it made, so `npm start` can print them and tests can assert.
import { performance } from 'node:perf_hooks';
import { COLUMNS, eventIdOf, type StormRecord } from '../data/record.js';
import { countsPerNode, tableSize } from '../data/hash.js';
import { COURSE_RECORD_COUNTS } from '../data/synthetic.js';
import type { TraceMode } from '../net/usage.js';
import type { LineWriter } from '../net/lines.js';
import { chooseData, type ScenarioData } from './data.js';
import { BULK_MS, STEP_MS, ScenarioError, System, ask, parseCounts, query, type Hosts, type NodeCount, type QueryOutcome } from './system.js';

export interface ScenarioOptions extends Hosts {
  /** Data directory; chosen as described in chooseData when absent. */
  dataDir?: string;
  trace?: TraceMode;
  /** Echo every process's console (and the scenario's narration) to stdout. */
  echo?: boolean;
  writer?: LineWriter;
  /** Narration lines (what the scenario is doing); echoed when echo is on. */
  log?: (line: string) => void;
  peerArgs?: string[];
  managerArgs?: string[];
  /** Every process keeps an event log `<logDir>/<name>.jsonl` (`--log`); see diagram.ts. */
  logDir?: string;
  /** Called once the manager is up, before any peer starts: the caller may keep the processes' consoles. */
  onSystem?: (system: System) => void;
  /** Test hooks of the full scenario (ignored by the milestone). */
  hooks?: FullHooks;
}

/**
 * Points of the full scenario where a test may act on the live system (inject traffic, inspect
 * consoles). A `during…` hook is called just before the command is typed, runs alongside the
 * operation, and is awaited before the scenario's next step.
 */
export interface FullHooks {
  /** After setup-dht completed and the counts were read, before the first query. */
  afterSetup?: (system: System, setup: Placement) => Promise<void>;
  /** Called just before the leaver types leave-dht. */
  duringLeave?: (system: System, leaver: string) => Promise<void>;
  /** Called just before the Free peer types join-dht. */
  duringJoin?: (system: System, joiner: string) => Promise<void>;
  /** After the last query, before teardown-dht at the current leader. */
  beforeTeardown?: (system: System, leader: string) => Promise<void>;
}

export interface Check { what: string; ok: boolean; detail: string }

export interface Placement {
  leader: string;
  nodes: NodeCount[];
  counts: number[];
  /** The line that ended the operation (e.g. `dht-complete: SUCCESS — …`). */
  answer: string;
}

export interface ScenarioFacts {
  data: Omit<ScenarioData, 'records'> & { recordCount: number; s: number };
  setup: Placement;
  exitCodes: Record<string, number>;
  checks: Check[];
  ok: boolean;
  elapsedMs: number;
}

export interface FullFacts extends ScenarioFacts {
  free: string;
  leaver: string;
  queries: QueryOutcome[];
  afterLeave: Placement;
  afterJoin: Placement;
  teardownBy: string;
}

/** Shared plumbing: the dataset, the narration, the checks, and cleanup on any failure. */
class Run {
  readonly checks: Check[] = [];
  readonly started = performance.now();
  readonly byId: Map<number, StormRecord>;
  readonly s: number;

  constructor(readonly data: ScenarioData, readonly options: ScenarioOptions) {
    this.byId = new Map(data.records.map((r) => [eventIdOf(r), r]));
    this.s = tableSize(data.records.length);
  }

  say(line: string): void {
    report(this.options, line);
  }

  check(what: string, ok: boolean, detail: string): void {
    this.checks.push({ what, ok, detail });
    this.say(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
  }

  expectPlacement(what: string, p: Placement, n: number): void {
    const expected = countsPerNode([...this.byId.keys()], this.s, n);
    const sum = p.counts.reduce((a, b) => a + b, 0);
    this.check(`${what}: ${n} nodes`, p.counts.length === n, `${p.counts.length} count lines from ${p.leader}`);
    this.check(`${what}: counts sum to ℓ`, sum === this.data.records.length, `${p.counts.join(' + ')} = ${sum} (ℓ = ${this.data.records.length})`);
    this.check(`${what}: counts match the hash`, same(p.counts, expected), `got [${p.counts.join(', ')}], expected [${expected.join(', ')}]`);
  }

  expectQuery(q: QueryOutcome): void {
    const rec = this.byId.get(q.eventId);
    if (rec) {
      const wrong = COLUMNS.filter((c, i) => q.fields[c] !== rec[i]);
      this.check(`query ${q.eventId} by ${q.asker}`, q.found && wrong.length === 0,
        q.found ? (wrong.length ? `fields differ from the file: ${wrong.join(', ')}` : `found, all 14 fields match; id-seq ${q.idSeq.join(',')}`) : 'expected found, got not found');
    } else {
      this.check(`query ${q.eventId} by ${q.asker}`, q.notFoundLine && !q.found,
        q.notFoundLine ? `not found, as expected; id-seq ${q.idSeq.join(',')}` : 'expected "not found", got a record');
    }
  }

  facts(setup: Placement, exitCodes: Record<string, number>): ScenarioFacts {
    const { records, ...rest } = this.data;
    return {
      data: { ...rest, recordCount: records.length, s: this.s },
      setup, exitCodes, checks: this.checks,
      ok: this.checks.every((c) => c.ok), elapsedMs: performance.now() - this.started,
    };
  }
}

function same(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function placement(lines: string[], leader: string, answer = lines[lines.length - 1]!): Placement {
  const nodes = parseCounts(lines);
  return { leader: nodes.find((n) => n.id === 0)?.name ?? leader, nodes, counts: nodes.map((n) => n.count), answer };
}

async function startSystem(run: Run, names: string[]): Promise<System> {
  const o = run.options;
  const system = await System.start({
    dataDir: run.data.dir, trace: o.trace ?? 'summary', echo: o.echo ?? false,
    ...(o.writer ? { writer: o.writer } : {}), ...(o.peerArgs ? { peerArgs: o.peerArgs } : {}), ...(o.managerArgs ? { managerArgs: o.managerArgs } : {}),
    ...(o.launcher ? { launcher: o.launcher } : {}), ...(o.managerIp ? { managerIp: o.managerIp } : {}), ...(o.peerIp ? { peerIp: o.peerIp } : {}),
    ...(o.logDir !== undefined ? { logDir: o.logDir } : {}),
  });
  o.onSystem?.(system);
  try {
    run.say(`== manager on port ${system.managerPort}; registering ${names.join(', ')}`);
    await system.addPeers(names);
  } catch (err) {
    system.killAll();
    throw err;
  }
  return system;
}

/** Setup at `leader`: type setup-dht, read the counts, wait for dht-complete SUCCESS. */
async function setup(run: Run, system: System, leader: string, n: number): Promise<Placement> {
  run.say(`== ${leader}: setup-dht ${leader} ${n} ${run.data.year}`);
  const lines = await ask(system.peer(leader), `setup-dht ${leader} ${n} ${run.data.year}`, /^dht-complete: SUCCESS/, BULK_MS);
  const p = placement(lines, leader);
  run.check('setup', true, p.answer);
  run.expectPlacement('setup', p, n);
  return p;
}

/** Tear down at the leader, deregister everyone, stop the manager; every exit code must be 0. */
async function finish(run: Run, system: System, leader: string): Promise<Record<string, number>> {
  run.say(`== ${leader}: teardown-dht`);
  await ask(system.peer(leader), `teardown-dht ${leader}`, /^teardown-complete: SUCCESS/, BULK_MS);
  run.check('teardown-complete', true, 'SUCCESS');
  run.say('== every peer deregisters; the manager quits');
  const codes: Record<string, number> = {};
  await Promise.all([...system.peers.values()].map(async (p) => {
    await ask(p, `deregister ${p.name}`, /^deregister: SUCCESS/);
    codes[p.name] = await p.exited;
  }));
  system.manager.send('quit');
  codes['manager'] = await system.manager.exited;
  for (const [name, code] of Object.entries(codes)) run.check(`${name} exits`, code === 0, `exit code ${code}`);
  return codes;
}

/** Run body; on any failure kill every process so none is left behind, then rethrow. */
async function guarded<T>(system: System, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    system.killAll();
    await Promise.all(system.all().map((p) => p.exited));
    throw err;
  }
}

/** SPEC §6 milestone: manager + 3 peers, setup-dht n = 3 on 1950, counts, dht-complete; then a clean shutdown. */
export async function runMilestone(options: ScenarioOptions = {}): Promise<ScenarioFacts> {
  const run = new Run(chooseData(1950, COURSE_RECORD_COUNTS[1950], options.dataDir, (l) => report(options, l)), options);
  const system = await startSystem(run, ['peer1', 'peer2', 'peer3']);
  return guarded(system, async () => {
    const p = await setup(run, system, 'peer1', 3);
    const codes = await finish(run, system, p.leader);
    return run.facts(p, codes);
  });
}

/** SPEC §6 full scenario: 6 peers, n = 5 on 1996, four queries, a leave, a join, teardown, shutdown. */
export async function runFull(options: ScenarioOptions = {}): Promise<FullFacts> {
  const run = new Run(chooseData(1996, COURSE_RECORD_COUNTS[1996], options.dataDir, (l) => report(options, l)), options);
  const names = ['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6'];
  const system = await startSystem(run, names);
  return guarded(system, async () => {
    const hooks = run.options.hooks ?? {};
    const p = await setup(run, system, 'peer1', 5);
    if (hooks.afterSetup) await hooks.afterSetup(system, p);
    const free = names.find((name) => !p.nodes.some((node) => node.name === name));
    if (!free) throw new ScenarioError(`every peer is in the DHT of ${p.nodes.length}; expected one Free peer`);
    const [q1, q2, q3, q4] = run.data.queryIds;
    const queries: QueryOutcome[] = [];
    const ask4 = async (asker: string, id: number): Promise<void> => {
      run.say(`== ${asker}: query-dht ${asker} ${id}`);
      const q = await query(system.peer(asker), id);
      queries.push(q);
      run.expectQuery(q);
    };
    for (const id of [q1, q2, q3, q4]) await ask4(free, id);

    // A member other than the leader leaves; its right neighbour leads the rebuilt ring.
    const leaver = p.nodes[2]!.name;
    run.say(`== ${leaver}: leave-dht ${leaver}`);
    const leaveLines = await alongside(hooks.duringLeave?.(system, leaver),
      () => ask(system.peer(leaver), `leave-dht ${leaver}`, /^dht-rebuilt: SUCCESS/, BULK_MS));
    const afterLeave = await rebuildPlacement(system, leaveLines, 'leave');
    run.expectPlacement('after leave', afterLeave, p.nodes.length - 1);
    await ask4(leaver, q1);

    run.say(`== ${free}: join-dht ${free}`);
    const joinLines = await alongside(hooks.duringJoin?.(system, free),
      () => ask(system.peer(free), `join-dht ${free}`, /^dht-rebuilt: SUCCESS/, BULK_MS));
    const afterJoin = await rebuildPlacement(system, joinLines, 'join');
    run.expectPlacement('after join', afterJoin, p.nodes.length);
    await ask4(leaver, q3);

    if (hooks.beforeTeardown) await hooks.beforeTeardown(system, afterJoin.leader);
    const codes = await finish(run, system, afterJoin.leader);
    return { ...run.facts(p, codes), free, leaver, queries, afterLeave, afterJoin, teardownBy: afterJoin.leader };
  });
}

/** Run step while a hook (already started) runs; both must succeed; the hook is awaited after the step. */
async function alongside<T>(hook: Promise<void> | undefined, step: () => Promise<T>): Promise<T> {
  if (!hook) return step();
  hook.catch(() => {}); // reported below, after the step; never an unhandled rejection
  const result = await step();
  await hook;
  return result;
}

/** The rebuild leader is named in the initiator's `leave: L rebuilt …` / `join: L rebuilt …` line; its console has the counts. */
async function rebuildPlacement(system: System, initiatorLines: string[], kind: 'leave' | 'join'): Promise<Placement> {
  const re = new RegExp(`^${kind}: (\\S+) rebuilt the DHT`);
  const leader = initiatorLines.map((l) => re.exec(l)?.[1]).find((x) => x !== undefined);
  if (!leader) throw new ScenarioError(`no '${kind}: <leader> rebuilt the DHT' line among:\n${initiatorLines.slice(-30).join('\n')}`);
  const lines = await system.peer(leader).waitForLines(/^rebuild: \d+ records stored on \d+ nodes/, STEP_MS);
  return placement(lines, leader, initiatorLines[initiatorLines.length - 1]!);
}

function report(options: ScenarioOptions, line: string): void {
  if (options.log) options.log(line);
  else if (options.echo) options.writer?.line(line);
}
