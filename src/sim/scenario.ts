// The full acceptance scenario (SPEC §6) in the simulated world, with the invariants checked
// after every step. A failure names its seed; running that seed again replays it exactly.
import { COLUMNS, eventIdOf, type LineDataset, type StormRecord } from '../data/record.js';
import { countsPerNode, nodeOf, positionOf, tableSize } from '../data/hash.js';
import { generateSynthetic } from '../data/synthetic.js';
import { eventIdOfLine, toLine } from '../data/line.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import type { RetryPolicy } from '../reliable/index.js';
import { forkRandom } from './rng.js';
import { World, type Faults, type SimPeer, type WorldOptions } from './world.js';

export interface ScenarioOptions {
  seed: number;
  faults: Faults;
  /** Peers started; the DHT uses n of them (the full scenario: 6 and 5). */
  peers: number;
  n: number;
  year: number;
  records: StormRecord[];
  /** Event ids to query: present ones are checked against the data, absent ones must miss. */
  queries: number[];
  retry?: RetryPolicy;
  /** `dht-peer --compress on` for every peer: the leader's store batches are deflated. */
  compress?: boolean;
  verbose?: boolean;
  /** More world options: latency, a digest of the run, where verbose lines go. */
  world?: Pick<WorldOptions, 'latency' | 'digest' | 'echo' | 'trace' | 'makePeerCore' | 'observe'>;
}

export interface ScenarioReport {
  seed: number;
  ok: boolean;
  failures: string[];
  steps: number;
  virtualMs: number;
  datagrams: number;
  dropped: number;
  duplicated: number;
  /** The run's digest (world option `digest`), else ''. */
  digest: string;
}

/** Retry policy for lossy simulations: 20% loss each way needs more tries than a LAN. */
export const LOSSY_RETRY: RetryPolicy = { rtoMs: 100, minRtoMs: 20, maxRtoMs: 800, maxTries: 40 };

class Failure extends Error {}

export function runScenario(opts: ScenarioOptions): ScenarioReport {
  const world = new World({
    seed: opts.seed,
    faults: opts.faults,
    manager: { waitTimeoutMs: 10 * 60_000, retry: opts.retry ?? LOSSY_RETRY },
    peer: { retry: opts.retry ?? LOSSY_RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 5 * 60_000, ...(opts.compress ? { compress: true } : {}) },
    datasets: new Map<number, LineDataset>([[opts.year, { year: opts.year, lines: opts.records.map(toLine), source: 'simulation' }]]),
    ...(opts.verbose ? { verbose: true } : {}),
    ...opts.world,
  });
  const run = new Run(world, opts);
  const report: ScenarioReport = { seed: opts.seed, ok: true, failures: [], steps: 0, virtualMs: 0, datagrams: 0, dropped: 0, duplicated: 0, digest: '' };
  try {
    run.full();
  } catch (e) {
    report.ok = false;
    report.failures.push(e instanceof Failure ? e.message : `crash: ${(e as Error).stack ?? String(e)}`);
  }
  Object.assign(report, { steps: run.steps, virtualMs: Math.round(world.now), datagrams: world.datagrams, dropped: world.dropped, duplicated: world.duplicated,
    digest: opts.world?.digest ? world.digest() : '' });
  return report;
}

class Run {
  steps = 0;
  private readonly s: number;
  private readonly byId = new Map<number, StormRecord>();
  private readonly pick: () => number;

  constructor(private readonly world: World, private readonly opts: ScenarioOptions) {
    this.s = tableSize(opts.records.length);
    for (const r of opts.records) this.byId.set(eventIdOf(r), r);
    this.pick = forkRandom(opts.seed, 'scenario');
  }

  full(): void {
    const names = Array.from({ length: this.opts.peers }, (_, i) => `peer${i + 1}`);
    names.forEach((name, i) => {
      this.world.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
      this.command(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`, 'register: SUCCESS');
    });
    const leader = names[0]!;
    this.command(leader, `setup-dht ${leader} ${this.opts.n} ${this.opts.year}`, 'dht-complete: SUCCESS');
    this.checkDht(leader, this.opts.n);
    const free = () => names.filter((nm) => !this.world.peer(nm).core.ring && this.world.peer(nm).exitCode === null);
    const querier = free()[0]!;
    for (const id of this.opts.queries) this.query(querier, id);

    const members = this.members();
    // Any member may leave, the leader included (leadership then moves to its right neighbour).
    const leaver = members[Math.floor(this.pick() * members.length)]!;
    this.command(leaver, `leave-dht ${leaver}`, 'dht-rebuilt: SUCCESS');
    this.checkDht(this.leaderName(), this.opts.n - 1);
    this.query(leaver, this.opts.queries[0]!);

    const joiner = free().find((nm) => nm !== leaver)!;
    this.command(joiner, `join-dht ${joiner}`, 'dht-rebuilt: SUCCESS');
    this.checkDht(this.leaderName(), this.opts.n);
    this.query(leaver, this.opts.queries[this.opts.queries.length > 2 ? 2 : 0]!);

    const lead = this.leaderName();
    this.command(lead, `teardown-dht ${lead}`, 'teardown-complete: SUCCESS');
    this.expect(this.world.manager.dht === null, 'the manager still has a DHT after teardown-complete');
    for (const nm of names) {
      const p = this.world.peer(nm);
      this.expect(p.core.ring === null && p.core.table.count === 0, `${nm} still holds a ring or records after teardown`);
    }
    for (const nm of names) {
      this.command(nm, `deregister ${nm}`, 'deregister: SUCCESS');
      this.expect(this.world.runUntil(() => this.world.peer(nm).exitCode !== null, 60_000), `${nm} did not exit after deregister`);
      this.expect(this.world.peer(nm).exitCode === 0, `${nm} exited with ${this.world.peer(nm).exitCode}`);
    }
    this.expect(this.world.manager.peers.size === 0, `${this.world.manager.peers.size} peers are still registered at the end`);
  }

  /** Type a command and wait (in virtual time) for the console to be free and the line to appear. */
  private command(name: string, line: string, expectStart: string): void {
    this.steps += 1;
    const peer = this.world.peer(name);
    const from = peer.prints.length;
    this.world.type(name, line);
    const ok = this.world.runUntil(() => peer.core.idle && peer.prints.slice(from).some((l) => l.startsWith(expectStart)), 600_000);
    if (!ok) {
      const tail = peer.prints.slice(from).slice(-8).join(' | ');
      throw new Failure(`step ${this.steps} '${line}' at ${name}: no '${expectStart}' (last lines: ${tail})`);
    }
    this.checkAgreement();
  }

  private query(name: string, eventId: number): void {
    const peer = this.world.peer(name);
    const from = peer.prints.length;
    this.command(name, `query-dht ${name} ${eventId}`, 'id-seq:');
    const out = peer.prints.slice(from);
    const expected = this.byId.get(eventId);
    if (!expected) {
      this.expect(out.includes(`Storm event ${eventId} not found in the DHT.`), `query ${eventId} by ${name}: expected a miss, got ${out.join(' | ')}`);
      return;
    }
    COLUMNS.forEach((c, i) => this.expect(out.includes(`${c}: ${expected[i]}`), `query ${eventId} by ${name}: missing '${c}: ${expected[i]}'`));
    const seq = out.find((l) => l.startsWith('id-seq:'))!.slice(8).split(', ').map(Number);
    const n = this.members().length;
    const home = nodeOf(positionOf(eventId, this.s), n);
    this.expect(seq[seq.length - 1] === home, `query ${eventId}: id-seq ${seq} does not end at node ${home}`);
    this.expect(new Set(seq).size === seq.length, `query ${eventId}: id-seq ${seq} visits a node twice`);
  }

  /** Every record stored exactly once, at (event_id mod s) mod n; printed counts = stored counts. */
  private checkDht(leaderName: string, n: number): void {
    const ring = this.world.peer(leaderName).core.ring;
    this.expect(ring !== null && ring.id === 0 && ring.n === n, `${leaderName} should lead a ring of ${n}`);
    const seen = new Map<number, number>();
    const counts: number[] = [];
    for (const [i, t] of ring!.peers.entries()) {
      const p = this.world.peer(t.name);
      this.expect(p.core.ring?.id === i && p.core.ring.n === n && p.core.ring.s === this.s, `${t.name} disagrees about its id, n or s`);
      counts.push(p.core.table.count);
      for (const [pos, line] of p.core.table.entries()) {
        const id = eventIdOfLine(line);
        this.expect(pos === positionOf(id, this.s) && nodeOf(pos, n) === i, `record ${id} stored at node ${i}, position ${pos}`);
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    this.expect(seen.size === this.byId.size, `${seen.size} distinct records stored, ${this.byId.size} in the data`);
    for (const [id, c] of seen) this.expect(c === 1, `record ${id} stored ${c} times`);
    const formula = countsPerNode([...this.byId.keys()], this.s, n);
    this.expect(counts.join() === formula.join(), `stored counts ${counts} differ from the formula ${formula}`);
    const printed = this.printedCounts(leaderName, n);
    this.expect(printed.join() === counts.join(), `printed counts ${printed} differ from stored counts ${counts}`);
  }

  private printedCounts(leaderName: string, n: number): number[] {
    const lines = this.world.peer(leaderName).prints;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const re = new RegExp(`^node ${i} \\w+: (\\d+) records?$`);
      const line = [...lines].reverse().find((l) => re.test(l));
      out.push(line ? Number(re.exec(line)![1]) : -1);
    }
    return out;
  }

  /** The manager's view and the peers' views of who is where agree. */
  private checkAgreement(): void {
    const m = this.world.manager;
    if (m.dht && m.dht.phase !== 'ready') return;
    for (const entry of m.peers.values()) {
      const p = this.world.peer(entry.name);
      const ring = p.core.ring;
      const local = ring ? (ring.id === 0 ? 'Leader' : 'InDHT') : 'Free';
      this.expect(local === entry.state, `manager says ${entry.name} is ${entry.state}, the peer says ${local}`);
    }
    if (m.dht) {
      const leader = this.world.peer(m.dht.leader).core.ring;
      this.expect(leader !== null, `manager's leader ${m.dht.leader} has no ring`);
      const names = leader!.peers.map((t) => t.name).sort().join();
      this.expect(names === [...m.dht.members].sort().join(), `manager members ${m.dht.members} differ from the ring ${names}`);
    }
  }

  private members(): string[] {
    return this.world.peer(this.leaderName()).core.ring!.peers.map((t) => t.name);
  }

  private leaderName(): string {
    const d = this.world.manager.dht;
    if (!d) throw new Failure('no DHT at the manager');
    return d.leader;
  }

  private expect(cond: boolean, what: string): void {
    if (!cond) throw new Failure(`step ${this.steps}: ${what}`);
  }
}

/** A small synthetic year for fast seeds, with two present and two absent query ids. */
export function smallDataset(year: number, count: number, seed: number): { records: StormRecord[]; queries: number[] } {
  const records = generateSynthetic(year, count, seed);
  const ids = records.map(eventIdOf);
  const present = [ids[0]!, ids[Math.floor(ids.length / 2)]!];
  const absent = [Math.max(...ids) + 1, 1];
  return { records, queries: [present[0]!, absent[0]!, present[1]!, absent[1]!] };
}

export type { SimPeer };
