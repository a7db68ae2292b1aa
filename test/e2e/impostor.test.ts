// SPEC §7 "a process cannot act for another", with real processes and a real outsider socket:
// (a) commands to the manager naming a peer, sent from an address that is not that peer's m-port,
//     are refused with NOT_OWNER and change nothing; so is a register from another address than
//     the one it claims;
// (b) ring messages sent to members' p-ports from outside the ring (a teardown naming the leader,
//     a store batch of forged records, set-id, reset-id, …) are ignored with a line, never
//     acknowledged, and the DHT keeps its records and answers;
// (c) console mistakes at a peer get usage help and the peer keeps working.
// The last block pins down weaknesses found while writing these tests, each fixed since: a forged
// request printing lines on the manager's console, unlimited complaint lines, a forged query walk
// bouncing around the ring, a replayed rebuild-dht storing every record twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System, ask, query, parseCounts } from '../../src/scenario/system.js';
import { freePorts } from '../../src/scenario/driver.js';
import { COLUMNS, eventIdOf, type StormRecord } from '../../src/data/record.js';
import { countsPerNode, nodeOf, positionOf, tableSize } from '../../src/data/hash.js';
import { DATA_DIR, DATA_LABEL, presentAndAbsent, recordById, records as testRecords } from '../helpers/data.js';
import { COMPLAINT, Probe, drained, heldRecords, managerStatus, peerStatus, type PeerPorts } from './udp.js';

const PEERS = ['peer1', 'peer2', 'peer3', 'peer4'];
/** An outsider's guess at a DHT's secret (it cannot know it: 128 random bits). */
const GUESS = 'guessedSecretAAAAAAAAA';
const STACK_FRAME = /^\s+at |internal error/;

let records: StormRecord[];
let s: number;
function loadRecords(): void {
  if (records) return;
  records = testRecords(1996);
  s = tableSize(records.length);
}
const byId = (id: number): StormRecord => recordById(1996, id)!;
/** Two ids the 1996 test data has and two it has not (the SPEC's four on the course file). */
const { present: [P1, P2], absent: [A1, A2] } = presentAndAbsent();

/** A manager and four registered peers; peer1 will lead a DHT of three on 1996. */
async function startSystem(peerArgs: string[] = []): Promise<System> {
  const sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, peerArgs });
  try {
    await sys.addPeers(PEERS);
  } catch (err) {
    sys.killAll();
    throw err;
  }
  return sys;
}

async function stop(sys: System | undefined): Promise<void> {
  if (!sys) return;
  sys.killAll();
  await Promise.all(sys.all().map((p) => p.exited));
}

/** Send one request from the probe; the manager's response to it. */
async function request(probe: Probe, managerPort: number, rid: number, cmd: string, args: string[]): Promise<Record<string, unknown>> {
  await probe.send(managerPort, { t: 'cmd', rid, cmd, args });
  return (await probe.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === rid)).msg!;
}

describe(`impostors and outsiders (real processes, 1996, n = 3, ${DATA_LABEL})`, () => {
  let sys: System;
  let probe: Probe;
  let ports: Map<string, PeerPorts>;
  let ring: string[] = [];
  let free = '';
  let refused = 0;
  let nextRid = 1000;
  const ignoredAt = new Map<string, string[]>();

  beforeAll(async () => {
    loadRecords();
    sys = await startSystem();
    probe = await Probe.open();
    ports = (await managerStatus(sys.manager)).peers;
  }, 60_000);

  afterAll(async () => {
    probe?.close();
    await stop(sys);
    process.stdout.write(`impostor: ${refused} impostor requests refused by the manager; outsider messages ignored: ${[...ignoredAt.entries()].map(([k, v]) => `${k} ${v.length}`).join(', ')}\n`);
  });

  it('(a) refuses every command naming a registered peer from another address with NOT_OWNER, and changes nothing', async () => {
    const before = (await managerStatus(sys.manager)).lines;
    const attempts: [string, string[]][] = [
      ['deregister', ['peer1']], ['setup-dht', ['peer1', '3', '1996']], ['leave-dht', ['peer1']], ['teardown-dht', ['peer1']],
      ['join-dht', ['peer2']], ['query-dht', ['peer3', '5536849']], ['dht-complete', ['peer1']], ['dht-rebuilt', ['peer1', 'peer2']],
      ['teardown-complete', ['peer1']], ['dht-abort', ['peer1']], ['deregister', ['peer4']],
    ];
    for (const [cmd, args] of attempts) {
      const res = await request(probe, sys.managerPort, nextRid++, cmd, args);
      expect(res, `${cmd} ${args.join(' ')}`).toMatchObject({ code: 'FAILURE', reason: 'NOT_OWNER' });
      refused += 1;
    }
    // register claiming an address (ip and m-port) other than the one the request comes from.
    const [m, p, q] = await freePorts(3);
    for (const args of [['ghost', '127.0.0.1', String(m), String(p)], ['ghost', '10.9.8.7', String(probe.port), String(q)], ['ghost', 'localhost', String(m), String(probe.port)]]) {
      const res = await request(probe, sys.managerPort, nextRid++, 'register', args);
      expect(res, `register ${args.join(' ')}`).toMatchObject({ code: 'FAILURE', reason: 'NOT_OWNER' });
      refused += 1;
    }
    const after = (await managerStatus(sys.manager)).lines;
    expect(after).toEqual(before);
    expect(after.some((l) => l.includes('ghost'))).toBe(false);
    // The real peer1 still acts for itself: it sets up the DHT the next tests use.
    const lines = await ask(sys.peer('peer1'), 'setup-dht peer1 3 1996', /^dht-complete: SUCCESS/, 60_000);
    ring = parseCounts(lines).map((n) => n.name);
    expect(ring).toHaveLength(3);
    expect(parseCounts(lines).map((n) => n.count)).toEqual(countsPerNode(records.map(eventIdOf), s, 3));
    free = PEERS.find((n) => !ring.includes(n))!;
  }, 60_000);

  it('(a) with a DHT: impostor setup-dht, leave-dht, teardown-dht naming the leader, … are refused too', async () => {
    const before = (await managerStatus(sys.manager)).lines;
    expect(before[0]).toMatch(/^DHT: ready, year 1996, leader peer1, 3 members/);
    const attempts: [string, string[]][] = [
      ['setup-dht', [ring[0]!, '3', '1996']], ['leave-dht', [ring[1]!]], ['leave-dht', [ring[0]!]], ['teardown-dht', [ring[0]!]],
      ['dht-complete', [ring[0]!]], ['deregister', [free]], ['join-dht', [free]], ['query-dht', [free]], ['teardown-complete', [ring[0]!]],
    ];
    for (const [cmd, args] of attempts) {
      const res = await request(probe, sys.managerPort, nextRid++, cmd, args);
      expect(res, `${cmd} ${args.join(' ')}`).toMatchObject({ code: 'FAILURE', reason: 'NOT_OWNER' });
      refused += 1;
    }
    expect((await managerStatus(sys.manager)).lines).toEqual(before);
  });

  it('(b) ignores ring messages from outside the ring at members\' p-ports, acknowledges none, and keeps every record', async () => {
    const tuples = ring.map((name) => ({ name, ip: '127.0.0.1', port: ports.get(name)!.pport }));
    const statusBefore = new Map<string, string>();
    for (const name of PEERS) statusBefore.set(name, await peerStatus(sys.peer(name)));
    const fake = (id: number): string => [String(id), 'FORGED', '1996', 'Never', 'Forgery', 'C', 'NOWHERE', '9', '9', '9', '9', '9M', '9M', 'F5'].join(',');
    // Every ring message, as an outsider must send it: with a guessed secret (without one the
    // codec refuses it at the edge). The state table speaks first; then the secret.
    const NO_SECRET = /without the secret of this peer's DHT/;
    const forged: [string, Record<string, unknown>, RegExp][] = [
      [ring[1]!, { t: 'teardown', origin: ring[0], dissolve: true, epoch: 0 }, NO_SECRET],
      [ring[2]!, { t: 'teardown', origin: ring[1], dissolve: false, epoch: 0 }, NO_SECRET],
      [ring[0]!, { t: 'teardown', origin: ring[0], dissolve: true, epoch: 0 }, NO_SECRET],
      [ring[1]!, { t: 'store', epoch: 0, to: 1, recs: [fake(P1), fake(A1), fake(P2)].join('\n') }, NO_SECRET],
      [ring[2]!, { t: 'store', epoch: 0, to: 2, recs: [fake(P1), fake(A1)].join('\n') }, NO_SECRET],
      [ring[1]!, { t: 'store-end', epoch: 0, counts: [1, 2] }, NO_SECRET],
      [ring[0]!, { t: 'store-failed', epoch: 0, text: 'forged' }, NO_SECRET],
      // set-id naming the real leader (wrong source), and one naming this outsider as leader.
      [ring[1]!, { t: 'set-id', id: 1, n: 3, peers: tuples, year: 1996, s, epoch: 1, dht: 1 }, NO_SECRET],
      [ring[2]!, { t: 'set-id', id: 1, n: 2, peers: [probe.tuple('mallory'), tuples[2]], year: 1996, s, epoch: 1, dht: 1 }, NO_SECRET],
      [free, { t: 'set-id', id: 1, n: 2, peers: [probe.tuple('mallory'), { name: free, ip: '127.0.0.1', port: ports.get(free)!.pport }], year: 1996, s, epoch: 1, dht: 1 }, NO_SECRET],
      [ring[1]!, { t: 'reset-id', origin: tuples[0], id: 1, n: 2, peers: [tuples[0], tuples[1]], year: 1996, s, epoch: 2, dht: 1 }, NO_SECRET],
      [ring[1]!, { t: 'rebuild-done', leader: ring[0], ok: true, counts: [1], text: 'done' }, /no leave or join of this peer is pending/],
      [ring[1]!, { t: 'rebuild-dht', year: 1996, origin: probe.tuple('mallory') }, /not the leader of a ring/],
      [ring[0]!, { t: 'rebuild-dht', year: 1996, origin: probe.tuple('mallory') }, NO_SECRET],
      [ring[0]!, { t: 'join', joiner: probe.tuple('mallory') }, NO_SECRET],
      // a query's first hop without the manager's capability, and a later hop without the secret
      [ring[1]!, { t: 'find-event', qid: 1, eventId: P1, sender: probe.tuple('mallory'), remaining: null, idSeq: [], cap: GUESS }, /capability/],
      [ring[2]!, { t: 'find-event', qid: 2, eventId: P1, sender: probe.tuple('mallory'), remaining: [0], idSeq: [1] }, NO_SECRET],
    ];
    const rids: number[] = [];
    for (const [target, body, why] of forged) {
      const rid = nextRid++;
      rids.push(rid);
      const p = sys.peer(target);
      const seen = p.watch(new RegExp(`^ignored ${body['t']} from 127\\.0\\.0\\.1:${probe.port}: `), 10_000);
      await probe.send(ports.get(target)!.pport, { ...(body['t'] === 'find-event' ? {} : { sec: GUESS }), ...body, rid });
      const line = await seen;
      expect(line, `${body['t']} to ${target}`).toMatch(why);
      ignoredAt.set(target, [...(ignoredAt.get(target) ?? []), line]);
    }
    // None was acknowledged (acks are sent within milliseconds; wait well past that), and no query
    // was answered (an outsider has no capability).
    const acks = (r: { msg: Record<string, unknown> | null }): number[] =>
      r.msg?.['t'] === 'ack' ? [r.msg['rid'] as number, ...((r.msg['more'] as number[] | undefined) ?? [])] : [];
    for (const name of PEERS) await drained(sys.peer(name), ports.get(name)!.pport);
    await new Promise((r) => setTimeout(r, 300));
    expect(probe.received.filter((r) => r.msg?.['t'] === 'event-result')).toEqual([]);
    const acked = new Set(probe.received.flatMap(acks));
    expect(rids.filter((r) => acked.has(r))).toEqual([]);
    // Nothing changed: same ring, same number of records everywhere.
    for (const name of PEERS) expect(await peerStatus(sys.peer(name))).toBe(statusBefore.get(name));
    // And the DHT still answers with the file's records; the forged ones are nowhere.
    const asker = sys.peer(free);
    for (const id of [P1, P2]) {
      const q = await query(asker, id);
      expect(q.found).toBe(true);
      COLUMNS.forEach((c, i) => expect(q.fields[c], c).toBe(byId(id)[i]));
    }
    for (const id of [A1, A2]) {
      const q = await query(asker, id);
      expect(q.notFoundLine).toBe(true);
    }
    const held = ring.map((name) => heldRecords(statusBefore.get(name)!));
    expect(held).toEqual(countsPerNode(records.map(eventIdOf), s, 3));
  }, 60_000);

  it('(c) a console typo, an unknown command and wrong argument counts get usage help; the peer keeps working', async () => {
    const p = sys.peer(free);
    const cases: [string, RegExp][] = [
      ['qeury-dht peer4 5536849', /^unknown command 'qeury-dht' — did you mean 'query-dht'\? \(type help for the list\)$/],
      ['frobnicate', /^unknown command 'frobnicate' \(type help for the list\)$/],
      ['setup-dht peer4 3', /^setup-dht: expected 3 arguments, got 2 — usage: setup-dht <peer-name> <n> <YYYY>$/],
      ['leave-dht', /^leave-dht: expected 1 argument, got 0 — usage: leave-dht <peer-name>$/],
      ['deregister peer4 now please', /^deregister: expected 1 argument, got 3 — usage: deregister <peer-name>$/],
      ['query-dht peer4 5536849 2402920', /^query-dht: expected 1 or 2 arguments, got 3 — usage: query-dht <peer-name> \[event-id\]$/],
      ['setup-dht peer4 three 1996', /^setup-dht: n 'three' is not a whole number — usage: /],
      ['setup-dht peer4 3 1800', /^setup-dht: year '1800' is not between 1950 and 2019 — usage: /],
      ['register 4peer 127.0.0.1 1 2', /^register: '4peer' is not a peer name/],
    ];
    for (const [line, answer] of cases) {
      p.send(line);
      const word = line.split(' ')[0]!;
      expect(await p.waitFor(new RegExp(`^(unknown command|${word}: )`)), line).toMatch(answer);
    }
    expect(p.lines.some((l) => STACK_FRAME.test(l))).toBe(false);
    expect(await peerStatus(p)).toMatch(new RegExp(`^status: ${free} at 127\\.0\\.0\\.1 .*; Free; 0 records held$`));
    expect((await query(p, P2)).found).toBe(true);
  }, 60_000);

  it('shuts down cleanly after all that', async () => {
    await ask(sys.peer(ring[0]!), `teardown-dht ${ring[0]}`, /^teardown-complete: SUCCESS/);
    for (const name of PEERS) {
      await ask(sys.peer(name), `deregister ${name}`, /^deregister: SUCCESS/);
      expect(await sys.peer(name).exited).toBe(0);
    }
    sys.manager.send('quit');
    expect(await sys.manager.exited).toBe(0);
    for (const p of sys.all()) expect(p.lines.filter((l) => STACK_FRAME.test(l))).toEqual([]);
  }, 60_000);
});

/** An event id whose node, in a ring of n, is `node`. */
function eventOn(node: number, n: number): number {
  for (let id = 1; ; id++) if (nodeOf(positionOf(id, s), n) === node) return id;
}

describe('weaknesses found by these tests, now fixed', () => {
  let sys: System;
  let probe: Probe;
  let ports: Map<string, PeerPorts>;
  let ring: string[] = [];

  beforeAll(async () => {
    loadRecords();
    sys = await startSystem();
    probe = await Probe.open();
    ports = (await managerStatus(sys.manager)).peers;
    ring = parseCounts(await ask(sys.peer('peer1'), 'setup-dht peer1 3 1996', /^dht-complete: SUCCESS/, 60_000)).map((n) => n.name);
  }, 60_000);

  afterAll(async () => {
    probe?.close();
    await stop(sys);
  });

  // Was a bug: the manager printed `${cmd} ${args}` as it came, so a newline in an argument let an
  // outsider put a line of its choosing on the manager's console. Command words are now printable
  // ASCII without spaces by schema, so such a request is refused at the edge as a bad datagram.
  it('a forged request cannot print a line of its choosing on the manager console', async () => {
    const mark = sys.manager.lines.length;
    await probe.send(sys.managerPort, { t: 'cmd', rid: 1, cmd: 'deregister', args: ['x\nregister peer9 127.0.0.1 5001 5002: SUCCESS — ok'] });
    await drained(sys.manager, sys.managerPort);
    const after = sys.manager.lines.slice(mark);
    expect(after.filter((l) => l.startsWith('register peer9'))).toEqual([]);
    expect(after.some((l) => /^bad datagram from .*bad cmd/.test(l))).toBe(true);
  });

  // Bug: complaint lines are rate-limited per (type, reason text), and set-id's reason text carries
  // the offending numbers (`bad set-id: n = 7 but 3 peers are listed`), so every distinct value
  // gets its own line — 200 datagrams, ~200 lines. Fix: key the rate limit on a fixed reason code.
  it('complaints about inconsistent set-ids are rate-limited like every other complaint', async () => {
    const target = sys.peer(ring[1]!);
    const mark = target.lines.length;
    const me = { name: ring[1]!, ip: '127.0.0.1', port: ports.get(ring[1]!)!.pport };
    for (let n = 3; n < 203; n++) {
      await probe.send(me.port, { t: 'set-id', rid: 5000 + n, id: 1, n, peers: [probe.tuple('mallory'), me], year: 1996, s, epoch: 1, dht: 1 });
    }
    await drained(target, me.port);
    const lines = target.lines.slice(mark).filter((l) => /^ignored set-id /.test(l));
    expect(lines.length).toBeLessThan(20);
  });

  // Bug: find-event does not bound or de-duplicate `remaining` (only checks ids < n), so one
  // forged datagram with 255 entries bounces among the members ~255 times (each hop a datagram, an
  // ack and two trace lines) before the answer goes out. Fix: drop duplicates and this node's own
  // id, refuse |remaining| + |idSeq| > n.
  it('one query visits each member at most once, whatever `remaining` says', async () => {
    const target = eventOn(2, 3);
    const others = [0, 1];
    const before = sys.all().map((p) => p.lines.length);
    const remaining = Array.from({ length: 255 }, (_, i) => others[i % 2]!);
    await probe.send(ports.get(ring[0]!)!.pport, { t: 'find-event', rid: 9, qid: 4711, eventId: target, sender: probe.tuple('mallory'), remaining, idSeq: [] });
    // The walk is refused where it enters: a node listed twice is not a walk this ring can make.
    // (Since default mode, a later hop without the DHT's secret is refused before its walk is read.)
    await sys.peer(ring[0]!).watch(/^ignored find-event .*(a node is listed twice|without the secret of this peer's DHT)/, 30_000);
    const hops = sys.all().reduce((sum, p, i) => sum + p.lines.slice(before[i]).filter((l) => /^→ \S+ \S+ find-event /.test(l)).length, 0);
    expect(hops).toBeLessThanOrEqual(2);
  }, 60_000);

  // Bug: the new leader of a rebuilt ring takes `rebuild-dht` whenever origin.name equals the last
  // renumberer (lastResetOrigin is never cleared, the source address is not checked), and it
  // re-distributes without a teardown: after one replay from anywhere, every other member holds
  // its records twice (SPEC §7: no record stored twice). Fix: accept rebuild-dht once, from the
  // renumberer's address, and only while the ring's tables are empty.
  it('a replayed rebuild-dht does not store records twice', async () => {
    const leaver = ring[1]!;
    const leaveLines = await ask(sys.peer(leaver), `leave-dht ${leaver}`, /^dht-rebuilt: SUCCESS/, 60_000);
    const newLeader = /^leave: (\S+) rebuilt the DHT/m.exec(leaveLines.join('\n'))![1]!;
    const members = ring.filter((n) => n !== leaver);
    const heldBefore = await Promise.all(members.map(async (n) => heldRecords(await peerStatus(sys.peer(n)))));
    expect(heldBefore.reduce((a, b) => a + b, 0)).toBe(records.length);
    const leader = sys.peer(newLeader);
    const outcome = leader.watch(/^(rebuild: \d+ records stored on \d+ nodes|ignored rebuild-dht .*)$/, 30_000);
    await probe.send(ports.get(newLeader)!.pport, { t: 'rebuild-dht', rid: 77, sec: GUESS, year: 1996, origin: { name: leaver, ip: '127.0.0.1', port: probe.port } });
    const line = await outcome;
    const heldAfter = await Promise.all(members.map(async (n) => heldRecords(await peerStatus(sys.peer(n)))));
    process.stdout.write(`weakness: after a replayed rebuild-dht (${line}) the members hold ${heldAfter.join(' + ')} = ${heldAfter.reduce((a, b) => a + b, 0)} records (file: ${records.length})\n`);
    expect(heldAfter).toEqual(heldBefore);
  }, 60_000);
});
