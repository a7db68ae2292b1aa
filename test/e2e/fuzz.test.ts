// SPEC §7 "bad input never crashes a process": the full scenario (1996, n = 5) with thousands of
// bad datagrams fired at the live manager and at every peer's m-port and p-port — after setup,
// and again while a leave and a join rebuild the tables. Afterwards every process still answers,
// the scenario ends with exactly the clean run's counts and answers, the bad datagrams were
// reported, and the reports are rate-limited summaries, not one line per datagram.
//
// The rate limit is checked as the limiter defines it (src/console/ratelimit.ts): per kind of
// complaint, at most one line per interval, so in a round that took T ms at most 1 + ⌈T / interval⌉
// lines of each kind, with T measured, and few kinds. No bound depends on how fast the machine is.
//
// Reproducible: the datagrams come from fast-check generators sampled with fixed seeds (FUZZ_SEED
// overrides the base seed). Synchronisation is on output lines only: after a burst, a sentinel
// datagram from a fresh socket is sent to each target and its complaint line awaited.
// FUZZ_DUMP=<file> appends every console line printed during each round to that file.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFull, type FullFacts } from '../../src/scenario/scenarios.js';
import type { System } from '../../src/scenario/system.js';
import type { DrivenProcess } from '../../src/scenario/driver.js';
import { COLUMNS, eventIdOf } from '../../src/data/record.js';
import { countsPerNode, tableSize } from '../../src/data/hash.js';
import { DATA_DIR, DATA_LABEL, expectedCounts, presentAndAbsent, recordById, records as testRecords } from '../helpers/data.js';
import { COMPLAINT, Probe, drained, managerStatus, peerStatus, type PeerPorts } from './udp.js';
import { sample, type FuzzContext, type Target } from './fuzz-gen.js';

const REFERENCE = expectedCounts(1996, 5);
const { present: [P1, P2], absent: [A1, A2] } = presentAndAbsent();
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_125);
/** Datagrams per target (13 targets: the manager, 6 m-ports, 6 p-ports) in each round. */
const PER_TARGET = { afterSetup: 800, duringLeave: 800, duringJoin: 800 } as const;
const BATCH = 500;
/** The limiter's interval (src/console/ratelimit.ts, as the shells and cores construct it). */
const INTERVAL_MS = 1000;
/**
 * Kinds of complaint a process may show in one round: a kind is a message type and reason, or a
 * sender address (src/net/shell.ts, the cores), so a few dozen at most. A limiter keyed on
 * something the fuzzer controls (a field's value) would show hundreds; 256 kinds empty its table.
 */
const MAX_KINDS = 100;
/**
 * Lines not limited by time (one per datagram at most: traces of queries and answers, which a peer
 * takes from anyone) may be at most this share of the datagrams a process received. A share of
 * datagrams, not of time, so it does not depend on how fast the machine is.
 */
const MAX_UNLIMITED_SHARE = 0.05;
/** What a crash or a caught core exception looks like on a console. */
const STACK_FRAME = /^\s+at |internal error/;

type Round = keyof typeof PER_TARGET;

interface RoundFigures {
  round: Round;
  sent: Map<string, number>;
  /** How long the round took, from the first datagram sent until every target had handled all. */
  elapsedMs: number;
  /** Per process: complaint lines (bad datagram / ignored) printed during the round. */
  complaints: Map<string, number>;
  /** Per process: rate-limited lines per kind (complaints, traces of strangers' datagrams, refused commands). */
  kinds: Map<string, Map<string, number>>;
  /** Per process: lines printed during the round that mention the fuzzer's address and are not rate-limited. */
  unlimited: Map<string, string[]>;
  /** Per process: every line printed during the round. */
  lines: Map<string, number>;
  /** Manager lines answering a refused command (one per well-formed cmd, by design). */
  refusedCommands: number;
  categories: Map<string, number>;
  /** Lines about fuzz datagrams a rebuild's leader printed while it was distributing. */
  duringRebuild: number;
}

const rounds: RoundFigures[] = [];
const alive: { round: Round; peerStatus: Map<string, string>; managerBefore: string[] | null; managerAfter: string[] }[] = [];
let probe: Probe;
let ports: Map<string, PeerPorts>;
let captured: Buffer[] = [];
let facts: FullFacts;
const records = testRecords(1996);
let system: System | null = null;
/** The ring at setup, leader first. The leaver is node 2, so nodes 0 and 1 stay members throughout. */
let ring: string[] = [];

/** Learn the ports and capture a few genuine datagrams (answers to the probe's own requests) for replay. */
async function prepare(sys: System, members: string[]): Promise<void> {
  system = sys;
  probe = await Probe.open();
  ports = (await managerStatus(sys.manager)).peers;
  const managerPort = sys.managerPort;
  // A genuine request of ours and its genuine FAILURE response (NOT_OWNER: the probe is not peer1).
  const cmd = Buffer.from(JSON.stringify({ t: 'cmd', rid: 4242, cmd: 'query-dht', args: [members[0]] }));
  await probe.send(managerPort, cmd);
  const res = await probe.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === 4242);
  // A genuine query and its answer. In default mode only a registered Free peer gets a query
  // capability, bound to its tuple: the probe registers as one (its p-port is a second socket,
  // where the answer goes), asks the manager, and walks the query with the capability.
  // (A socket of its own registers, so that the fuzzing socket stays a stranger that nobody names.)
  const mSock = await Probe.open();
  const pSock = await Probe.open();
  await mSock.send(managerPort, { t: 'cmd', rid: 4300, cmd: 'register', args: ['fuzzer', '127.0.0.1', String(mSock.port), String(pSock.port)] });
  const reg = await mSock.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === 4300);
  const ask = Buffer.from(JSON.stringify({ t: 'cmd', rid: 4301, cmd: 'query-dht', args: ['fuzzer'], tok: reg.msg!['tok'] }));
  await mSock.send(managerPort, ask);
  const granted = await mSock.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === 4301);
  const member = granted.msg!['peer'] as { port: number };
  await mSock.send(member.port, { t: 'find-event', rid: 4343, qid: 99, eventId: P1, sender: { name: 'fuzzer', ip: '127.0.0.1', port: pSock.port }, remaining: null, idSeq: [], cap: granted.msg!['cap'] });
  const answer = await pSock.next((r) => r.msg?.['t'] === 'event-result' && r.msg['qid'] === 99);
  // And leaves again: during the rounds the probe replays what it captured, from elsewhere.
  await mSock.send(managerPort, { t: 'cmd', rid: 4302, cmd: 'deregister', args: ['fuzzer'], tok: reg.msg!['tok'] });
  await mSock.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === 4302);
  mSock.close();
  pSock.close();
  captured = [cmd, res.raw, ask, granted.raw, answer.raw];
}

function targets(sys: System): Target[] {
  const list: Target[] = [{ kind: 'manager', name: 'manager', port: sys.managerPort }];
  for (const p of ports.values()) {
    list.push({ kind: 'mport', name: p.name, port: p.mport }, { kind: 'pport', name: p.name, port: p.pport });
  }
  return list;
}

interface Prepared { round: Round; items: { port: number; bytes: Buffer }[]; sent: Map<string, number>; categories: Map<string, number> }

/** Generate one round for every target, interleaved (generation takes a moment: done before the trigger). */
function prepareRound(sys: System, round: Round): Prepared {
  const ctx: FuzzContext = {
    probe: probe.tuple('fuzzer'),
    peers: [...ports.values()].map((p) => ({ name: p.name, mport: p.mport, pport: p.pport })),
    // A `join` naming a member is refused; a new name would be admitted (a documented weakness).
    stayingMembers: ring.slice(0, 2),
    captured,
  };
  const perTarget = targets(sys).map((t, i) => ({ t, data: sample(ctx, t.kind, PER_TARGET[round], SEED + 1000 * Object.keys(PER_TARGET).indexOf(round) + i) }));
  const sent = new Map<string, number>();
  const categories = new Map<string, number>();
  const items: { port: number; bytes: Buffer }[] = [];
  const longest = Math.max(...perTarget.map((x) => x.data.length));
  for (let k = 0; k < longest; k++) {
    for (const { t, data } of perTarget) {
      const d = data[k];
      if (!d) continue;
      items.push({ port: t.port, bytes: d.bytes });
      sent.set(t.name, (sent.get(t.name) ?? 0) + 1);
      categories.set(d.category, (categories.get(d.category) ?? 0) + 1);
    }
  }
  return { round, items, sent, categories };
}

/** Fire a prepared round, then wait until every target has handled it; record what it printed. */
async function fire(sys: System, prepared: Prepared): Promise<void> {
  const { round, items, sent, categories } = prepared;
  const processes = sys.all();
  const startAt = new Map(processes.map((p) => [p.name, p.lines.length]));
  const started = performance.now();
  await probe.sendAll(items, BATCH);
  // Every target has handled everything sent before its sentinel.
  for (const t of targets(sys)) await drained(t.kind === 'manager' ? sys.manager : sys.peer(t.name), t.port);
  const elapsedMs = performance.now() - started;
  const window = (p: DrivenProcess): string[] => p.lines.slice(startAt.get(p.name));
  if (process.env['FUZZ_DUMP']) {
    for (const p of processes) appendFileSync(process.env['FUZZ_DUMP'], window(p).map((l) => `${round} [${p.name}] ${l}\n`).join(''));
  }
  // Lines about the probe's datagrams printed while a process was distributing (after its
  // `rebuild-dht: rebuilding` / `join: renumbered` line, before its `rebuild: … stored` line, or
  // the end of the round): evidence that the round hit a rebuild in progress.
  const fromProbe = `127.0.0.1:${probe.port}`;
  let duringRebuild = 0;
  for (const p of processes) {
    const lines = window(p);
    const start = lines.findIndex((l) => /^(rebuild-dht: rebuilding|join: renumbered with)/.test(l));
    if (start < 0) continue;
    const stop = lines.findIndex((l, i) => i > start && /^rebuild: \d+ records stored on \d+ nodes$/.test(l));
    duringRebuild += lines.slice(start, stop < 0 ? lines.length : stop).filter((l) => l.includes(fromProbe)).length;
  }
  const kinds = new Map<string, Map<string, number>>();
  const unlimited = new Map<string, string[]>();
  for (const p of processes) {
    const perKind = new Map<string, number>();
    const loose: string[] = [];
    for (const line of window(p)) {
      const kind = limitedKind(line, p === sys.manager, fromProbe);
      if (kind !== null) perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
      else if (line.includes(fromProbe)) loose.push(line);
    }
    kinds.set(p.name, perKind);
    unlimited.set(p.name, loose);
  }
  rounds.push({
    round,
    sent,
    elapsedMs,
    kinds,
    unlimited,
    complaints: new Map(processes.map((p) => [p.name, window(p).filter((l) => COMPLAINT.test(l)).length])),
    lines: new Map(processes.map((p) => [p.name, window(p).length])),
    refusedCommands: window(sys.manager).filter((l) => /^\S+ .*: FAILURE [A-Z_]+ — /.test(l)).length,
    categories,
    duringRebuild,
  });
}

/** Queries and their answers: a peer takes them from anyone (a querier is an outsider) and traces each. */
const OPEN_TO_ALL = /^[←→] \S+ \S+ (find-event|event-result) /;

/**
 * The limiter's kind of a rate-limited line, as far as the line shows it, or null for a line the
 * limiter does not handle. Two kinds must never map to one key (the bound per key would not
 * follow); one kind may map to several (a reason with a name in it), which only loosens nothing.
 */
function limitedKind(line: string, manager: boolean, fuzzer: string): string | null {
  const text = line.replace(/ \(and \d+ more like it since the last report\)$/, '');
  // The shells: one kind per sender address; the reason varies within it.
  const bad = /^bad datagram from (\S+): /.exec(text);
  if (bad) return `bad ${bad[1]}`;
  // The cores: one kind per message type and reason (the peer core masks digits in the reason).
  const ignored = /^ignored (\S+) from \S+: (.*)$/.exec(text);
  if (ignored) return `ignored ${ignored[1]} ${ignored[2]!.replace(/[0-9]+/g, '#')}`;
  // The shells: trace lines of the fuzzer's datagrams (a stranger's, or ones the core ignored),
  // one kind per direction and type; queries and answers are not limited (OPEN_TO_ALL).
  const trace = /^([←→]) \S+ (\S+) (\S+)/.exec(text);
  if (trace) return trace[2] === fuzzer && !OPEN_TO_ALL.test(text) ? `trace ${trace[1]} ${trace[3]}` : null;
  // The manager: a refused command from a stranger, one kind per reason.
  const refused = manager ? /^\S+ .*: FAILURE ([A-Z_]+) — /.exec(text) : null;
  if (refused) return `refused ${refused[1]}`;
  return null;
}

/** Every process still answers its console: each peer's status, the manager's peer table unchanged. */
async function checkAlive(sys: System, round: Round, managerBefore: string[] | null): Promise<void> {
  const statuses = new Map<string, string>();
  for (const p of sys.peers.values()) statuses.set(p.name, await peerStatus(p));
  const after = (await managerStatus(sys.manager)).lines;
  alive.push({ round, peerStatus: statuses, managerBefore, managerAfter: after });
}

beforeAll(async () => {
  facts = await runFull({
    dataDir: DATA_DIR,
    trace: 'summary',
    // LAN-sized store batches: on one machine the large local ones rebuild the ring in a few
    // milliseconds, and the rounds fired during the leave and the join must find it rebuilding.
    peerArgs: ['--local-payload', '0'],
    hooks: {
      afterSetup: async (sys, setup) => {
        ring = setup.nodes.map((n) => n.name);
        await prepare(sys, ring);
        const before = (await managerStatus(sys.manager)).lines;
        await fire(sys, prepareRound(sys, 'afterSetup'));
        await checkAlive(sys, 'afterSetup', before);
      },
      // Generated before the command is typed; fired the moment the manager has said yes.
      duringLeave: async (sys, leaver) => {
        const prepared = prepareRound(sys, 'duringLeave');
        await sys.peer(leaver).watch(/^leave-dht: SUCCESS/, 60_000);
        await fire(sys, prepared);
      },
      duringJoin: async (sys, joiner) => {
        const prepared = prepareRound(sys, 'duringJoin');
        await sys.peer(joiner).watch(/^join-dht: SUCCESS/, 60_000);
        await fire(sys, prepared);
      },
      beforeTeardown: async (sys) => {
        await checkAlive(sys, 'duringJoin', null);
      },
    },
  });
}, 600_000);

afterAll(() => {
  probe?.close();
  if (rounds.length > 0) {
    // The figures the report quotes: per round, what was sent where and what it printed.
    for (const r of rounds) {
      const rows = [...r.sent.entries()].map(([name, n]) => `${name}: sent ${n}, complaint lines ${r.complaints.get(name)}, ` +
        `limited kinds ${r.kinds.get(name)?.size}, all lines ${r.lines.get(name)}`);
      process.stdout.write(`fuzz ${r.round}: ${[...r.sent.values()].reduce((a, b) => a + b, 0)} datagrams in ${Math.round(r.elapsedMs)} ms; manager refused-command lines ${r.refusedCommands}; ` +
        `lines about fuzz datagrams printed by a leader while distributing ${r.duringRebuild}\n  ${rows.join('\n  ')}\n`);
    }
  }
  void system;
});

const byId = (id: number) => recordById(1996, id)!;

describe(`fuzzing the live system (real processes, 1996, n = 5, ${DATA_LABEL})`, () => {
  it('fires at least 10,000 bad datagrams of every kind, at the manager and at every m-port and p-port', () => {
    const total = rounds.reduce((a, r) => a + [...r.sent.values()].reduce((x, y) => x + y, 0), 0);
    expect(rounds.map((r) => r.round)).toEqual(['afterSetup', 'duringLeave', 'duringJoin']);
    expect(total).toBeGreaterThanOrEqual(10_000);
    const first = rounds[0]!;
    expect([...first.sent.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
    expect([...first.sent.keys()].sort()).toEqual(['manager', 'peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6']);
    for (const category of ['random bytes', 'truncated message', 'oversized (1,401–8,192 bytes)', 'oversized (> 8,192 bytes)', 'wrong field type',
      'unknown type', 'huge array', 'forged peer message', 'refused command', 'replayed genuine datagram', 'forged message in fragments']) {
      expect(first.categories.get(category) ?? 0, category).toBeGreaterThan(10);
    }
  });

  it('the rounds during the leave and the join reached a leader while it was rebuilding', () => {
    const during = rounds.filter((r) => r.round !== 'afterSetup').map((r) => r.duringRebuild);
    expect(Math.max(...during)).toBeGreaterThan(0);
  });

  it('no process crashed or changed its mind: every peer answers status, the manager table is unchanged', () => {
    expect(alive.map((a) => a.round)).toEqual(['afterSetup', 'duringJoin']);
    const [afterSetup] = alive;
    expect(afterSetup!.managerAfter).toEqual(afterSetup!.managerBefore);
    for (const a of alive) {
      expect([...a.peerStatus.keys()].sort()).toEqual(['peer1', 'peer2', 'peer3', 'peer4', 'peer5', 'peer6']);
      for (const line of a.peerStatus.values()) expect(line).toMatch(/^status: peer\d at 127\.0\.0\.1 m-port \d+ p-port \d+; (Free|Leader|InDHT)/);
    }
    // After setup: five members hold exactly the reference counts, the sixth holds nothing.
    const held = [...afterSetup!.peerStatus.values()].map((l) => Number(/(\d+) records? held$/.exec(l)![1])).sort((a, b) => a - b);
    expect(held).toEqual([0, ...REFERENCE].sort((a, b) => a - b));
  });

  it('the bad datagrams were reported by every target', () => {
    for (const r of rounds) {
      for (const [name, n] of r.complaints) expect(n, `${r.round}: ${name}`).toBeGreaterThan(0);
    }
  });

  it('…in rate-limited lines: per kind at most one per interval of the time the round took, and few kinds', () => {
    for (const r of rounds) {
      const perKind = 1 + Math.ceil(r.elapsedMs / INTERVAL_MS);
      for (const [name, kinds] of r.kinds) {
        const where = `${r.round} (${Math.round(r.elapsedMs)} ms): ${name}`;
        expect(kinds.size, `${where}: kinds ${[...kinds.keys()].join(' | ')}`).toBeLessThanOrEqual(MAX_KINDS);
        for (const [kind, lines] of kinds) expect(lines, `${where}: '${kind}'`).toBeLessThanOrEqual(perKind);
        // So the complaint lines alone are bounded by kinds × lines per kind, whatever was sent.
        expect(r.complaints.get(name)!).toBeLessThanOrEqual(kinds.size * perKind);
      }
      // A refused command is answered and logged once, never more.
      expect(r.refusedCommands).toBeLessThanOrEqual(r.categories.get('refused command') ?? 0);
    }
  });

  it('…and the fuzzer\'s datagrams reach a console only through the limiter, or as the trace of a query or an answer', () => {
    for (const r of rounds) {
      for (const [name, lines] of r.unlimited) {
        expect(lines.filter((l) => !OPEN_TO_ALL.test(l)), `${r.round}: ${name}`).toEqual([]);
        const sent = r.sent.get(name)!;
        expect(lines.length, `${r.round}: ${name} traced ${lines.length} queries or answers of ${sent} datagrams`).toBeLessThanOrEqual(sent * MAX_UNLIMITED_SHARE);
      }
    }
  });

  it('no stack trace or internal error anywhere', () => {
    const everything = [...(system?.all() ?? [])].flatMap((p) => p.lines);
    expect(everything.length).toBeGreaterThan(0);
    expect(everything.filter((l) => STACK_FRAME.test(l))).toEqual([]);
  });

  it('the scenario then completes with exactly the clean run\'s counts and answers', () => {
    expect(facts.checks.filter((c) => !c.ok)).toEqual([]);
    expect(facts.setup.counts).toEqual(REFERENCE);
    for (const id of [P1, P2]) {
      const q = facts.queries.find((x) => x.eventId === id && x.asker === facts.free)!;
      expect(q.found).toBe(true);
      const rec = byId(id);
      COLUMNS.forEach((c, i) => expect(q.fields[c]).toBe(rec[i]));
    }
    for (const id of [A1, A2]) {
      const q = facts.queries.find((x) => x.eventId === id)!;
      expect(q.found).toBe(false);
      expect(q.answer).toContain(`Storm event ${id} not found in the DHT.`);
    }
    expect(facts.afterLeave.counts).toEqual(countsPerNode(records.map(eventIdOf), tableSize(records.length), 4));
    expect(facts.afterJoin.counts).toEqual(REFERENCE);
    expect(Object.values(facts.exitCodes)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
