// What must hold whatever the workload and the faults (the VOPR's checker). It reads what a person
// sees (every line each process prints, as it is printed) and what the cores expose (the
// manager's table), and fails the seed at the first violation: a printed record that differs from
// the data, or "not found" for a record the data has (whatever the ring was doing meanwhile).
// Weaknesses that are known and left to a later issue (self-healing) are counted by kind instead,
// so that work can turn them into failures one by one.
import { COLUMNS, eventIdOf, type StormRecord } from '../data/record.js';
import { countsPerNode, nodeOf, positionOf, tableSize } from '../data/hash.js';
import { toLine } from '../data/line.js';
import { holdsReplicaOf, replicationOf } from '../peer/replicas.js';
import type { World } from './world.js';

export class CheckFailure extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'CheckFailure';
  }
}

/** The known weaknesses, by kind: counted, never failed (yet). */
export const KNOWN = {
  duplicateName: 'restarted peer refused its old name (DUPLICATE_NAME)',
  gaveUp: 'manager gave up waiting (crashed, quit or cut-off peer)',
  unanswered: 'query without answer within --query-timeout (crash, quit, partition or loss)',
  busyAtEnd: 'console still busy at the end (crash, quit or partition)',
} as const;
export type KnownIssue = (typeof KNOWN)[keyof typeof KNOWN];

/** A field as the peer prints it: control characters escaped (peer/core.ts). */
function printable(field: string): string {
  return field.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

const COUNTS_LINE = /^(setup|rebuild|repair): (\d+) records? stored on (\d+) nodes?(?: \(\+(\d+) replicas?, r = (\d+)\))?$/;
const NODE_LINE = /^node (\d+) \w+: (\d+|\?) records?(?: \(\+(\d+|\?) replicas?\))?$/;
const DONE_LINE = /^(dht-complete|dht-rebuilt|teardown-complete|register|deregister): SUCCESS/;
/** A query's final line without an answer (the querier's deadline, or no DHT left to ask). */
const NO_ANSWER = /^query-dht: (.*; )?no answer for event /;
const NOT_FOUND = /^Storm event (\d+) not found in the DHT\.$/;
const NOT_REGISTERED = /^\S+: FAILURE NOT_REGISTERED — (\S+) is not registered$/;

export class Checker {
  readonly known = new Map<KnownIssue, number>();
  /** Answers checked, for the report; of them "not found" (each checked absent from the data). */
  answers = 0;
  notFounds = 0;
  countsChecked = 0;
  /** Replica tables compared with the records of the node they copy (replicas.ts), for the report. */
  replicasChecked = 0;
  /** Operations that completed (a person saw their final SUCCESS), by kind, for the report. */
  readonly completed = new Map<string, number>();
  private readonly records = new Map<number, string[]>();
  /** Each record as a table holds it (a CSV line), by event id. */
  private readonly lines = new Map<number, string>();
  private readonly ids: number[];
  private readonly s: number;
  private readonly formula = new Map<number, string>();
  /** Per peer: lines of a found record still expected (the 14 fields come one per line). */
  private readonly reading = new Map<string, { expected: string[]; next: number }>();
  private readonly restarted = new Set<string>();
  /** Peers the manager declared dead (--detect) since they last registered: NOT_REGISTERED is right for them. */
  private readonly declaredDead = new Set<string>();
  /** Peers whose deregister got no answer: the manager may have applied it (then NOT_REGISTERED is right). */
  private readonly unsureDeregister = new Set<string>();
  /** No process crashed, quit or restarted and the network never split: then the end state must agree. */
  pristine = true;

  constructor(private readonly world: World, records: StormRecord[]) {
    for (const r of records) {
      this.records.set(eventIdOf(r), r.map(printable));
      this.lines.set(eventIdOf(r), toLine(r));
    }
    this.ids = [...this.records.keys()];
    this.s = tableSize(records.length);
  }

  /** Watch the world: every print. */
  attach(): void {
    this.world.onPrint = (node, text) => this.line(node, text);
  }

  count(kind: KnownIssue, times = 1): void {
    this.known.set(kind, (this.known.get(kind) ?? 0) + times);
  }

  /** A process crashed, quit or was restarted: the DHT is no longer what queries were sent to. */
  disturbed(node: string, restart: boolean): void {
    this.pristine = false;
    if (restart && node !== 'manager') this.restarted.add(node);
  }

  /** Name → address of every registered peer, as the manager's table has them. */
  registered(): Map<string, string> {
    return new Map([...this.world.manager.peers.values()].map((p) => [p.name, `${p.ip}:${p.mport}/${p.pport}`]));
  }

  /**
   * The manager was restarted (after a crash or a quit): it must know every peer it knew before
   * (PROTOCOL §4.10). A peer it forgot is stranded: NOT_REGISTERED to everything, and the peer
   * refuses to register again. Once a known weakness, now a failure.
   */
  managerRestarted(before: Map<string, string>): void {
    const now = this.registered();
    const lost = [...before].filter(([name, at]) => now.get(name) !== at).map(([name]) => name);
    if (lost.length > 0) this.fail(`peers stranded by a manager restart: ${lost.join(', ')} were registered before it and are not after it`);
  }

  private line(node: string, text: string): void {
    if (node === 'manager') {
      const dead = /^liveness: (\S+) declared dead/.exec(text);
      if (dead) this.declaredDead.add(dead[1]!);
      if (text.includes('gave up waiting')) {
        // Every wait ends in time when nothing crashed, quit or split (senders' retries are bounded).
        if (this.pristine) this.fail(`the manager gave up waiting though nothing crashed, quit or split: ${text}`);
        this.count(KNOWN.gaveUp);
      }
      return;
    }
    const reading = this.reading.get(node);
    if (reading) return this.field(node, reading, text);
    if (text.startsWith('event_id: ')) this.found(node, text);
    else if (NOT_FOUND.test(text)) this.notFound(node, Number(NOT_FOUND.exec(text)![1]));
    else if (NO_ANSWER.test(text)) this.count(KNOWN.unanswered);
    else if (NOT_REGISTERED.test(text)) this.notRegistered(node, NOT_REGISTERED.exec(text)![1]!);
    else if (text.startsWith('deregister: FAILURE NO_RESPONSE')) this.unsureDeregister.add(node);
    else if (text.startsWith('register: FAILURE DUPLICATE_NAME') && this.restarted.has(node) && this.world.manager.peers.has(node)) this.count(KNOWN.duplicateName);
    else if (COUNTS_LINE.test(text)) this.counts(node, text);
    else if (DONE_LINE.test(text)) {
      const kind = DONE_LINE.exec(text)![1]!;
      if (kind === 'register') {
        this.unsureDeregister.delete(node);
        this.declaredDead.delete(node);
      }
      this.completed.set(kind, (this.completed.get(kind) ?? 0) + 1);
    }
  }

  /**
   * The manager says a peer that believes it is registered is not: it lost the peer (a restart
   * that forgot it), unless the peer's own deregister went unanswered.
   */
  private notRegistered(node: string, name: string): void {
    const peer = this.world.peer(node);
    if (peer.core.me?.name !== name || this.unsureDeregister.has(node) || this.declaredDead.has(name)) return;
    this.fail(`${node} is stranded: it is registered as ${name}, and the manager answers NOT_REGISTERED`);
  }

  private found(node: string, text: string): void {
    const id = Number(text.slice('event_id: '.length));
    const expected = this.records.get(id);
    if (!expected) this.fail(`${node} printed a record for event ${id}, which is not in the data`);
    this.reading.set(node, { expected: expected!, next: 1 });
  }

  private field(node: string, reading: { expected: string[]; next: number }, text: string): void {
    const i = reading.next;
    const want = `${COLUMNS[i]}: ${reading.expected[i]}`;
    if (text !== want) this.fail(`${node} printed '${text.slice(0, 80)}' for event ${reading.expected[0]}; the data says '${want.slice(0, 80)}'`);
    reading.next += 1;
    if (reading.next === COLUMNS.length) {
      this.reading.delete(node);
      this.answers += 1;
    }
  }

  /** "Not found" for a record of the data is wrong, whatever the ring was doing (SPEC §7). */
  private notFound(node: string, id: number): void {
    this.answers += 1;
    this.notFounds += 1;
    if (this.records.has(id)) this.fail(`${node} printed 'not found' for event ${id}, which is in the data`);
  }

  /**
   * A leader's per-node counts (the n lines before its total) sum to ℓ and match the hash; with
   * replicas (r > 1), each node's copies are the counts of the r − 1 nodes before it, and they
   * add up to (r − 1)·ℓ.
   */
  private counts(node: string, text: string): void {
    const [, purpose, total, nText, copiesText, rText] = COUNTS_LINE.exec(text)!;
    // A repair is done by nobody's command: counted here, where its counts are checked.
    if (purpose === 'repair') this.completed.set('repair', (this.completed.get('repair') ?? 0) + 1);
    const n = Number(nText);
    const prints = this.world.peer(node).prints;
    // The total line is already in prints (onPrint runs after it is kept): the n before it.
    const lines = prints.slice(prints.length - 1 - n, prints.length - 1).map((l) => NODE_LINE.exec(l));
    const counts = lines.map((m, i) => (m && Number(m[1]) === i ? Number(m[2]) : -1));
    let f = this.formula.get(n);
    if (f === undefined) this.formula.set(n, (f = countsPerNode(this.ids, this.s, n).join(', ')));
    this.countsChecked += 1;
    if (counts.join(', ') !== f) this.fail(`${node} printed counts ${counts.join(', ')} on ${n} nodes; the hash gives ${f}`);
    if (Number(total) !== this.ids.length) this.fail(`${node} printed ${total} records stored; the data has ${this.ids.length}`);
    const r = rText === undefined ? 1 : Number(rText);
    const copies = lines.map((m) => (m?.[3] === undefined ? (r > 1 ? -1 : 0) : Number(m[3])));
    const own = f.split(', ').map(Number);
    const want = own.map((_, i) => {
      let c = 0;
      for (let j = 1; j < r; j++) c += own[(i - j + n) % n]!;
      return c;
    });
    if (copies.join(', ') !== want.join(', ')) this.fail(`${node} printed replica counts ${copies.join(', ')} on ${n} nodes with r = ${r}; the hash gives ${want.join(', ')}`);
    if (r > 1 && Number(copiesText) !== (r - 1) * this.ids.length) this.fail(`${node} printed ${copiesText} replicas stored; r = ${r} and ${this.ids.length} records make ${(r - 1) * this.ids.length}`);
  }

  /**
   * Every copy is right (replicas.ts): a running member whose tables are complete for its ring
   * holds, for each node it copies, exactly that node's records, each as in the data, and copies
   * of no other node. (Its own table is what queries check, answer by answer.)
   */
  checkReplicas(): void {
    for (const peer of this.world.peers.values()) {
      const core = peer.core;
      const state = core.state;
      if (peer.exitCode !== null || state.kind !== 'member' || !state.complete) continue;
      const { ring } = state;
      const r = replicationOf(ring);
      for (const owner of core.table.replicas().keys()) {
        if (!holdsReplicaOf(ring, ring.id, owner)) this.fail(`${peer.name} (node ${ring.id} of ${ring.n}, r = ${r}) keeps copies of node ${owner}, which it should not`);
      }
      for (let j = 1; j < r; j++) {
        const owner = (ring.id - j + ring.n) % ring.n;
        const held = new Map<number, string>();
        for (const [pos, line] of core.table.replicas().get(owner)?.entries() ?? []) {
          const id = Number(line.slice(0, line.indexOf(',')));
          if (held.has(id)) this.fail(`${peer.name} holds two copies of event ${id}`);
          if (this.lines.get(id) !== line) this.fail(`${peer.name}'s copy of event ${id} differs from the data`);
          if (positionOf(id, ring.s) !== pos || nodeOf(pos, ring.n) !== owner) this.fail(`${peer.name} keeps event ${id} as node ${owner}'s, whose it is not`);
          held.set(id, line);
        }
        const expected = this.ids.filter((id) => nodeOf(positionOf(id, ring.s), ring.n) === owner).length;
        if (held.size !== expected) this.fail(`${peer.name} (node ${ring.id}) keeps ${held.size} copies of node ${owner}'s records; node ${owner} has ${expected}`);
        this.replicasChecked += 1;
      }
    }
  }

  /** The manager's table is consistent: at most one leader, members registered and marked. */
  checkManager(): void {
    if (!this.world.managerAlive) return;
    const m = this.world.manager;
    const leaders = [...m.peers.values()].filter((p) => p.state === 'Leader').map((p) => p.name);
    const d = m.dht;
    if (!d) {
      const busy = [...m.peers.values()].filter((p) => p.state !== 'Free').map((p) => p.name);
      if (busy.length > 0) this.fail(`manager: no DHT, yet ${busy.join(', ')} not Free`);
      return;
    }
    if (leaders.length !== 1 || leaders[0] !== d.leader) this.fail(`manager: DHT led by ${d.leader}, peers marked Leader: ${leaders.join(', ') || 'none'}`);
    if (new Set(d.members).size !== d.members.length || d.members.length < 1) this.fail(`manager: members ${d.members.join(', ')}`);
    if (!d.members.includes(d.leader)) this.fail(`manager: leader ${d.leader} is not among the members ${d.members.join(', ')}`);
    for (const name of d.members) {
      const p = m.peers.get(name);
      if (!p) this.fail(`manager: member ${name} is not registered`);
      else if (name !== d.leader && p.state !== 'InDHT') this.fail(`manager: member ${name} is ${p.state}`);
    }
    for (const p of m.peers.values()) {
      if (!d.members.includes(p.name) && p.state !== 'Free') this.fail(`manager: ${p.name} is ${p.state} but not a member`);
    }
  }

  /**
   * At rest, after a run in which nothing crashed or split: every peer's own view (Free, or its
   * place in a ring) is what the manager's table says, and the leader's ring lists the members.
   */
  checkAgreement(): void {
    if (!this.pristine || !this.world.managerAlive) return;
    const m = this.world.manager;
    const d = m.dht;
    if (d && d.phase !== 'ready') return;
    for (const entry of m.peers.values()) {
      const peer = [...this.world.peers.values()].find((p) => p.exitCode === null && p.m.port === entry.mport && p.core.me?.name === entry.name);
      if (!peer) this.fail(`manager: ${entry.name} is registered at m-port ${entry.mport}, but no running peer is`);
      const ring = peer!.core.ring;
      const local = ring ? (ring.id === 0 ? 'Leader' : 'InDHT') : 'Free';
      if (local !== entry.state) this.fail(`at rest, the manager says ${entry.name} is ${entry.state}, the peer says ${local}`);
      if (ring && d && ring.peers.map((t) => t.name).sort().join() !== [...d.members].sort().join()) {
        this.fail(`at rest, ${entry.name}'s ring ${ring.peers.map((t) => t.name).join(', ')} differs from the manager's members ${d.members.join(', ')}`);
      }
    }
  }

  /** `known: query without answer … ×3; …` (empty when none). */
  summary(): string {
    return [...this.known.entries()].map(([k, v]) => `${k} ×${v}`).join('; ');
  }

  private fail(what: string): never {
    throw new CheckFailure(`at ${this.world.now.toFixed(1)} ms: ${what}`);
  }
}
