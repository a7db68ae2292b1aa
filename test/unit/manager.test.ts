// The manager's state machine (SPEC §2, §7): every command in every DHT phase, every FAILURE
// reason with its condition, ownership of requests, duplicate suppression and liveness.
// The harness talks to ManagerCore exactly as the UDP shell does: a datagram in, effects out;
// every response is pushed through the codec, so it is also checked to be a valid datagram.
import { describe, it, expect } from 'vitest';
import { DEFAULT_LIVENESS } from '../../src/manager/liveness.js';
import { ManagerCore, type ManagerEffect } from '../../src/manager/core.js';
import { MANAGER_REQUESTS, PHASES, REASONS, ROLES_IN, RULES, isWaiting, rows, verdict, type ManagerRequest, type Phase, type Role, type Row } from '../../src/manager/rules.js';
import { DEFAULT_RETRY, type Addr } from '../../src/reliable/index.js';
import { seededRandom } from '../../src/sim/rng.js';
import { queryCapability, seededSecret } from '../../src/protocol/secrets.js';
import { InvariantError } from '../../src/runtime/assert.js';
import { decode, encode } from '../../src/protocol/codec.js';
import type { MessageOf, Tuple } from '../../src/protocol/messages.js';

type Res = MessageOf<'res'>;
type Send = Extract<ManagerEffect, { kind: 'send' }>;

const WAIT = 60_000;
const T0 = 1_000;

interface PeerDef { name: string; ip: string; mport: number; pport: number }

/** peer<i> at 127.0.0.1 with its own pair of ports. */
const peerDef = (i: number, ip = '127.0.0.1'): PeerDef => ({ name: `peer${i}`, ip, mport: 6000 + 2 * i, pport: 6001 + 2 * i });
const mAddr = (d: PeerDef): Addr => ({ ip: d.ip, port: d.mport });
const regArgs = (d: PeerDef): string[] => [d.name, d.ip, String(d.mport), String(d.pport)];

class Harness {
  readonly core: ManagerCore;
  readonly defs = new Map<string, PeerDef>();
  now = T0;
  effects: ManagerEffect[] = [];
  private nextRid = 1;

  constructor(seed = 1, detect = false) {
    this.core = new ManagerCore({ waitTimeoutMs: WAIT, retry: DEFAULT_RETRY, ...(detect ? { liveness: DEFAULT_LIVENESS } : {}) },
      { random: seededRandom(seed), secret: seededSecret(seededRandom(seed + 1000)) });
  }

  /** The token each address got at register (a real peer puts it on every command). */
  readonly tokens = new Map<string, string>();

  /** One request datagram from `from` (with the token its address got at register); returns the one response, decoded from its bytes. */
  send(from: Addr, cmd: string, args: string[], rid = this.nextRid++, tok = cmd === 'register' ? undefined : this.tokens.get(`${from.ip}:${from.port}`)): Res {
    // A real peer's request ids only grow (the manager refuses an older one as a replay).
    this.nextRid = Math.max(this.nextRid, rid + 1);
    this.effects = this.core.handle(this.now, { kind: 'datagram', from, msg: { t: 'cmd', rid, cmd, args, ...(tok !== undefined ? { tok } : {}) } });
    this.ackNotices();
    const responses = this.effects.filter((e): e is Send => e.kind === 'send' && e.msg.t === 'res');
    expect(responses, `exactly one response to ${cmd}`).toHaveLength(1);
    expect(responses[0]!.to, 'the response goes back to the sender').toEqual(from);
    const decoded = decode(encode(responses[0]!.msg));
    if (!decoded.ok) throw new Error(`the response to ${cmd} is not a valid datagram: ${decoded.reason}`);
    expect(decoded.msg.t).toBe('res');
    const res = decoded.msg as Res;
    expect(res.rid).toBe(rid);
    expect(res.text.length, 'a response always explains itself').toBeGreaterThan(0);
    if (cmd === 'register' && res.code === 'SUCCESS') this.tokens.set(`${from.ip}:${from.port}`, res.tok!);
    return res;
  }

  /** The peers acknowledge the manager's dht-notice and join-notice at once (dissolved is left to the tests). */
  ackNotices(): void {
    for (const e of this.effects) {
      if (e.kind === 'send' && (e.msg.t === 'dht-notice' || e.msg.t === 'join-notice')) {
        this.core.handle(this.now, { kind: 'datagram', from: e.to, msg: { t: 'ack', rid: e.msg.rid } });
      }
    }
  }

  /** A request from the named peer's own address and m-port. */
  as(name: string, cmd: string, ...args: string[]): Res {
    const d = this.defs.get(name);
    if (!d) throw new Error(`test bug: no peer ${name}`);
    return this.send(mAddr(d), cmd, args);
  }

  register(d: PeerDef): Res {
    this.defs.set(d.name, d);
    return this.send(mAddr(d), 'register', regArgs(d));
  }

  /**
   * Time passes (with --detect): every registered peer but `silent` says `alive` every 100 ms, the
   * manager's timer fires every 50 ms, and its notices are acknowledged.
   */
  liveFor(ms: number, silent: string): void {
    for (const end = this.now + ms; this.now < end; this.now += 50) {
      if (this.now % 100 === 0) {
        for (const [name, d] of this.defs) {
          const tok = this.tokens.get(`${d.ip}:${d.mport}`);
          if (name !== silent && tok !== undefined) this.core.handle(this.now, { kind: 'datagram', from: mAddr(d), msg: { t: 'alive', rid: 0, tok } });
        }
      }
      this.effects = this.core.onTimeout(this.now);
      for (const e of this.effects) {
        if (e.kind === 'send' && e.msg.t === 'repair') this.core.handle(this.now, { kind: 'datagram', from: e.to, msg: { t: 'ack', rid: e.msg.rid } });
      }
    }
  }

  registerMany(count: number): void {
    for (let i = 1; i <= count; i++) expect(this.register(peerDef(i)).code).toBe('SUCCESS');
  }

  state(name: string): string | undefined {
    return this.core.peers.get(name)?.state;
  }

  members(): string[] {
    return this.core.dht?.members ?? [];
  }

  snapshot(): unknown {
    // Every command taken moves its sender's highest request id (lastRid): that is not a change of state.
    return structuredClone({ peers: [...this.core.peers.values()].map(({ lastRid: _, ...p }) => ({ ...p, state: p.state })), dht: this.core.dht });
  }

  prints(): string[] {
    return this.effects.filter((e): e is Extract<ManagerEffect, { kind: 'print' }> => e.kind === 'print').map((e) => e.text);
  }
}

const ok = (res: Res): void => {
  expect(res.code, `${res.cmd}: ${res.reason ?? ''} ${res.text}`).toBe('SUCCESS');
  expect(res.reason).toBeUndefined();
};
const failed = (res: Res, reason: keyof typeof REASONS): void => {
  expect({ code: res.code, reason: res.reason }, res.text).toEqual({ code: 'FAILURE', reason });
};

// ---------------------------------------------------------------- phases

/** A manager's peers by role (rules.ts `Role`); only the roles that occur in the phase are set. */
interface Fixture { h: Harness; roles: Partial<Record<Role, string>> }

const roleIn = (f: Fixture, role: Role): string => {
  const name = f.roles[role];
  if (name === undefined) throw new Error(`test bug: no ${role} in this fixture`);
  return name;
};

/**
 * A manager with peer1…peer5 registered, brought into `phase`: peer1 leads a DHT of 3 when one
 * exists; the leaver is a non-leader member, the joiner a Free peer; peer9 is never registered.
 */
function inPhase(phase: Phase, seed = 7): Fixture {
  const h = new Harness(seed, phase === 'repairing');
  h.registerMany(5);
  const newcomer = peerDef(9);
  h.defs.set(newcomer.name, newcomer);
  if (phase === 'none') return { h, roles: { free: 'peer3', unregistered: newcomer.name } };
  ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
  const members = h.members();
  const outsiders = [...h.core.peers.keys()].filter((n) => !members.includes(n));
  expect(outsiders).toHaveLength(2);
  const roles: Partial<Record<Role, string>> = { leader: 'peer1', member: members[1]!, free: outsiders[0]!, unregistered: newcomer.name };
  if (phase !== 'building') ok(h.as('peer1', 'dht-complete', 'peer1'));
  if (phase === 'leaving') {
    roles.initiator = members[2]!;
    ok(h.as(roles.initiator, 'leave-dht', roles.initiator));
  } else if (phase === 'joining') {
    roles.initiator = outsiders[0]!;
    roles.free = outsiders[1]!;
    ok(h.as(roles.initiator, 'join-dht', roles.initiator));
  } else if (phase === 'tearing-down') {
    ok(h.as('peer1', 'teardown-dht', 'peer1'));
  } else if (phase === 'repairing') {
    // A member dies: the leader repairs the DHT without it (and leads it, as initiator).
    roles.initiator = 'peer1';
    delete roles.leader;
    h.liveFor(13_000, members[2]!);
  }
  expect(h.core.phase).toBe(phase);
  return { h, roles };
}

/** The arguments that make each request succeed when sent by `sender` (where the table allows it). */
const ARGS: Record<ManagerRequest, (f: Fixture, sender: string) => string[]> = {
  register: (f, s) => regArgs(f.h.defs.get(s)!),
  'setup-dht': (_, s) => [s, '3', '1950'],
  'dht-complete': (_, s) => [s],
  'query-dht': (_, s) => [s],
  'leave-dht': (_, s) => [s],
  'join-dht': (_, s) => [s],
  'dht-rebuilt': (f, s) => [s, f.h.core.dht?.leader ?? s],
  deregister: (_, s) => [s],
  'teardown-dht': (_, s) => [s],
  'teardown-complete': (_, s) => [s],
  'dht-abort': (_, s) => [s],
};

describe('manager: every request in every phase from every role, as the rule table says', () => {
  it('the table has a rule for all 11 requests in all 6 phases, and every role that occurs is judged', () => {
    expect(MANAGER_REQUESTS).toHaveLength(11);
    expect(rows()).toHaveLength(MANAGER_REQUESTS.length * PHASES.reduce((n, p) => n + ROLES_IN[p].length, 0));
    for (const p of PHASES) for (const c of MANAGER_REQUESTS) expect(RULES[p][c], `${c} in ${p}`).toBeDefined();
  });

  it('while it waits, the manager takes only the awaited requests, and only from the peer it waits for', () => {
    for (const phase of PHASES.filter(isWaiting)) {
      const awaited = phase === 'building' || phase === 'tearing-down' ? 'leader' : 'initiator';
      for (const request of MANAGER_REQUESTS) {
        const rule = RULES[phase][request];
        if (rule.allow.length === 0) expect(ROLES_IN[phase].map((r) => verdict(phase, request, r)), `${request} in ${phase}`).toEqual(ROLES_IN[phase].map(() => ({ ok: false, reason: 'BUSY' })));
        else expect(rule.allow, `${request} in ${phase}`).toEqual([awaited]);
      }
    }
    for (const phase of PHASES.filter((p) => !isWaiting(p))) {
      for (const r of rows().filter((x) => x.phase === phase)) expect(r.verdict, `${r.request} in ${phase}`).not.toEqual({ ok: false, reason: 'BUSY' });
    }
  });

  const label = (r: Row): string => (r.verdict.ok ? `SUCCESS, then ${r.verdict.next}` : `${r.verdict.reason}, stays ${r.phase}`);
  it.each(rows().map((r) => [r.phase, r.request, r.role, label(r), r] as const))('%s: %s from the %s → %s', (phase, request, role, _, row) => {
    const f = inPhase(phase);
    const name = roleIn(f, role);
    expect(f.h.core.roleOf(name), 'the fixture gives the sender this role').toBe(role);
    const before = f.h.snapshot();
    const res = f.h.as(name, request, ...ARGS[request](f, name));
    expect(res.cmd).toBe(request);
    if (row.verdict.ok) {
      ok(res);
      expect(f.h.core.phase).toBe(row.verdict.next);
    } else {
      failed(res, row.verdict.reason);
      expect(f.h.snapshot(), 'a FAILURE changes nothing').toEqual(before);
      expect(f.h.core.phase).toBe(phase);
      if (row.verdict.reason === 'BUSY') expect(res.text).toMatch(/waiting for (dht-complete|dht-rebuilt|teardown-complete) from peer\d/);
    }
  });

  it('the leader leaving is the initiator: only it may finish or abort the leave', () => {
    const f = inPhase('ready');
    ok(f.h.as('peer1', 'leave-dht', 'peer1'));
    expect(f.h.core.roleOf('peer1')).toBe('initiator');
    const member = roleIn(f, 'member');
    failed(f.h.as(member, 'dht-abort', member), 'NOT_INITIATOR');
    failed(f.h.as(member, 'dht-rebuilt', member, member), 'NOT_INITIATOR');
    ok(f.h.as('peer1', 'dht-rebuilt', 'peer1', member));
    expect(f.h.core.phase).toBe('ready');
  });
});

// ---------------------------------------------------------------- register

describe('manager: register', () => {
  it('stores a new peer as Free with its address and ports', () => {
    const h = new Harness();
    ok(h.register(peerDef(1)));
    expect(h.core.peers.get('peer1')).toEqual({ name: 'peer1', ip: '127.0.0.1', mport: 6002, pport: 6003, state: 'Free', token: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), lastRid: 1 });
  });

  it('a duplicate name is DUPLICATE_NAME, even with other ports', () => {
    const h = new Harness();
    h.registerMany(1);
    const again = { ...peerDef(1), mport: 7000, pport: 7001 };
    failed(h.send(mAddr(again), 'register', regArgs(again)), 'DUPLICATE_NAME');
    expect(h.core.peers.get('peer1')!.mport).toBe(6002);
  });

  // A program started again on a Free peer's address may take its old name only when failure
  // detection (--detect) has heard nothing from the old process: then it is declared dead at
  // once. Never without detection, never while the old one answers — a forged source address
  // must not take a live peer's registration away (PROTOCOL §3.2, §8).
  it('with --detect, a Free peer started again after its old process went silent registers again: a new entry, a new token', () => {
    const h = new Harness(1, true);
    h.registerMany(2);
    const d = peerDef(1);
    const before = h.core.peers.get('peer1')!.token;
    h.now += DEFAULT_LIVENESS.graceMs + DEFAULT_LIVENESS.suspectMs; // silent since it registered
    // The restarted process has no token (register carries none) and new request ids.
    const res = h.send(mAddr(d), 'register', regArgs(d), 9_000);
    ok(res);
    expect(h.effects.some((e) => e.kind === 'print' && /peer1 declared dead/.test(e.text))).toBe(true);
    expect(res.tok).toBeDefined();
    expect(res.tok).not.toBe(before);
    expect(h.core.peers.get('peer1')!.token).toBe(res.tok);
    expect(h.core.peers.size).toBe(2);
    ok(h.as('peer1', 'deregister', 'peer1'));
  });

  it('a Free peer still heard from, or any peer without --detect, keeps its registration: DUPLICATE_NAME', () => {
    for (const detect of [false, true]) {
      const h = new Harness(1, detect);
      h.registerMany(1);
      const d = peerDef(1);
      if (detect) h.now += DEFAULT_LIVENESS.suspectMs - 1; // a fresh peer: within its grace, not silent
      const token = h.core.peers.get('peer1')!.token;
      failed(h.send(mAddr(d), 'register', regArgs(d), 9_000), 'DUPLICATE_NAME');
      expect(h.core.peers.get('peer1')!.token).toBe(token);
    }
  });

  it('register of a taken name from another address, or with other ports, is DUPLICATE_NAME; another name on those ports is PORT_IN_USE', () => {
    const h = new Harness(1, true);
    h.registerMany(1);
    h.now += DEFAULT_LIVENESS.graceMs + DEFAULT_LIVENESS.suspectMs; // silent: only its own address may take it back
    const d = peerDef(1);
    failed(h.send({ ip: '127.0.0.2', port: d.mport }, 'register', [d.name, '127.0.0.2', String(d.mport), String(d.pport)]), 'DUPLICATE_NAME');
    failed(h.send(mAddr(d), 'register', [d.name, d.ip, String(d.mport), '7001']), 'DUPLICATE_NAME');
    failed(h.send({ ip: d.ip, port: 7777 }, 'register', regArgs(d)), 'DUPLICATE_NAME');
    failed(h.send(mAddr(d), 'register', ['other', d.ip, String(d.mport), String(d.pport)]), 'PORT_IN_USE');
    expect(h.core.peers.get('peer1')!.token).toBe(h.tokens.get(`${d.ip}:${d.mport}`));
  });

  it('a member of the DHT started again is refused (DUPLICATE_NAME) and keeps its entry', () => {
    const h = new Harness();
    h.registerMany(3);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1996'));
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    for (const name of ['peer1', 'peer2']) {
      const d = peerDef(Number(name.slice(4)));
      const res = h.send(mAddr(d), 'register', regArgs(d), 9_000 + d.mport);
      failed(res, 'DUPLICATE_NAME');
      expect(res.tok, 'a refusal to a registered address carries no token').toBeUndefined();
    }
    expect(h.core.peers.get('peer1')!.token).toBe(h.tokens.get('127.0.0.1:6002'));
  });

  it('registering again drops the notices still unacknowledged by the old process', () => {
    const h = new Harness(1, true);
    h.registerMany(4);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1996'));
    ok(h.as('peer1', 'dht-abort', 'peer1'));
    // dissolved to the two members, not acknowledged: they are retransmitted …
    const dissolvedTo = h.effects.filter((e): e is Send => e.kind === 'send' && e.msg.t === 'dissolved').map((e) => e.to.port);
    expect(dissolvedTo).toHaveLength(2);
    const victim = [...h.defs.values()].find((d) => d.mport === dissolvedTo[0])!;
    h.now += DEFAULT_LIVENESS.graceMs + DEFAULT_LIVENESS.suspectMs;
    ok(h.send(mAddr(victim), 'register', regArgs(victim), 9_999));
    // … but no longer to the restarted one.
    const resent = h.core.onTimeout(h.now + 120_000).filter((e): e is Send => e.kind === 'send' && e.msg.t === 'dissolved').map((e) => e.to.port);
    expect(resent).not.toContain(victim.mport);
  });

  it.each([
    ['m-port equal to an m-port', 6002, 7001],
    ['m-port equal to a p-port', 6003, 7001],
    ['p-port equal to an m-port', 7000, 6002],
    ['p-port equal to a p-port', 7000, 6003],
  ])('%s already registered is PORT_IN_USE', (_, mport, pport) => {
    const h = new Harness();
    h.registerMany(1);
    const d = { name: 'other', ip: '127.0.0.1', mport, pport };
    const res = h.send(mAddr(d), 'register', regArgs(d));
    failed(res, 'PORT_IN_USE');
    expect(res.text).toContain('peer1');
    expect(h.core.peers.has('other')).toBe(false);
  });

  it.each([
    ['a name starting with a digit', ['1peer', '127.0.0.1', '7000', '7001']],
    ['a name of 16 characters', ['abcdefghijklmnop', '127.0.0.1', '7000', '7001']],
    ['a name with punctuation', ['peer-1', '127.0.0.1', '7000', '7001']],
    ['an IPv4 with a part over 255', ['peerx', '127.0.0.256', '7000', '7000']],
    ['an IPv4 with three parts', ['peerx', '127.0.1', '7000', '7001']],
    ['a host name other than localhost', ['peerx', 'example.com', '7000', '7001']],
    ['port 0', ['peerx', '127.0.0.1', '0', '7001']],
    ['port 65536', ['peerx', '127.0.0.1', '7000', '65536']],
    ['a non-numeric port', ['peerx', '127.0.0.1', 'seven', '7001']],
    ['a negative port', ['peerx', '127.0.0.1', '7000', '-7001']],
    ['m-port = p-port', ['peerx', '127.0.0.1', '7000', '7000']],
    ['too few arguments', ['peerx', '127.0.0.1', '7000']],
    ['too many arguments', ['peerx', '127.0.0.1', '7000', '7001', '7002']],
  ])('%s is BAD_ARGUMENTS', (_, args) => {
    const h = new Harness();
    failed(h.send({ ip: '127.0.0.1', port: 7000 }, 'register', args), 'BAD_ARGUMENTS');
    expect(h.core.peers.size).toBe(0);
  });

  it('localhost is accepted and stored as 127.0.0.1', () => {
    const h = new Harness();
    ok(h.send({ ip: '127.0.0.1', port: 7000 }, 'register', ['peerx', 'localhost', '7000', '7001']));
    expect(h.core.peers.get('peerx')!.ip).toBe('127.0.0.1');
  });

  it('a register from an address other than the claimed IPv4 and m-port is NOT_OWNER', () => {
    const h = new Harness();
    const d = peerDef(1);
    failed(h.send({ ip: '127.0.0.1', port: d.pport }, 'register', regArgs(d)), 'NOT_OWNER');
    failed(h.send({ ip: '10.0.0.5', port: d.mport }, 'register', regArgs(d)), 'NOT_OWNER');
    expect(h.core.peers.size).toBe(0);
  });

  it('an unknown command is UNKNOWN_COMMAND', () => {
    const h = new Harness();
    failed(h.send({ ip: '127.0.0.1', port: 7000 }, 'regster', ['peerx', '127.0.0.1', '7000', '7001']), 'UNKNOWN_COMMAND');
  });
});

// ---------------------------------------------------------------- setup-dht

describe('manager: setup-dht', () => {
  it('from a peer that is not registered is NOT_REGISTERED', () => {
    const h = new Harness();
    h.registerMany(3);
    failed(h.send({ ip: '127.0.0.1', port: 7000 }, 'setup-dht', ['nobody', '3', '1950']), 'NOT_REGISTERED');
    expect(h.core.dht).toBeNull();
  });

  it.each(['0', '1', '2'])('n = %s is N_TOO_SMALL', (n) => {
    const h = new Harness();
    h.registerMany(4);
    failed(h.as('peer1', 'setup-dht', 'peer1', n, '1950'), 'N_TOO_SMALL');
    expect(h.core.dht).toBeNull();
    expect(h.state('peer1')).toBe('Free');
  });

  it('fewer than n Free peers is NOT_ENOUGH_PEERS, saying how many there are', () => {
    const h = new Harness();
    h.registerMany(2);
    const res = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
    failed(res, 'NOT_ENOUGH_PEERS');
    expect(res.text).toContain('2 peers are registered, 3 are needed');
    expect(h.core.dht).toBeNull();
  });

  it.each([['a year before 1950', '1949'], ['a year after 2019', '2020'], ['a non-numeric n', 'x']])('%s is BAD_ARGUMENTS', (what, v) => {
    const h = new Harness();
    h.registerMany(3);
    const args = what.includes('year') ? ['peer1', '3', v] : ['peer1', v, '1950'];
    failed(h.as('peer1', 'setup-dht', ...args), 'BAD_ARGUMENTS');
  });

  it('when a DHT exists is DHT_EXISTS (even if enough Free peers remain)', () => {
    const h = new Harness();
    h.registerMany(6);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    const free = [...h.core.peers.values()].find((p) => p.state === 'Free')!.name;
    const res = h.as(free, 'setup-dht', free, '3', '1950');
    failed(res, 'DHT_EXISTS');
    expect(res.text).toContain('peer1');
    expect(h.core.dht!.leader).toBe('peer1');
  });

  it.each(Array.from({ length: 20 }, (_, i) => i + 1))('SUCCESS lists n tuples, leader first, others distinct, registered and marked (seed %i)', (seed) => {
    const h = new Harness(seed);
    h.registerMany(7);
    const res = h.as('peer3', 'setup-dht', 'peer3', '5', '1996');
    ok(res);
    const peers = res.peers!;
    expect(peers).toHaveLength(5);
    expect(peers[0]).toEqual({ name: 'peer3', ip: '127.0.0.1', port: peerDef(3).pport });
    expect(new Set(peers.map((p) => p.name)).size).toBe(5);
    for (const t of peers) {
      const entry = h.core.peers.get(t.name)!;
      expect(t, 'a tuple is (name, IPv4, p-port)').toEqual({ name: entry.name, ip: entry.ip, port: entry.pport });
      expect(entry.state).toBe(t.name === 'peer3' ? 'Leader' : 'InDHT');
    }
    const outside = [...h.core.peers.values()].filter((p) => !peers.some((t) => t.name === p.name));
    expect(outside.map((p) => p.state)).toEqual(['Free', 'Free']);
    expect(h.core.dht).toMatchObject({ phase: 'building', leader: 'peer3', year: 1996, members: peers.map((t) => t.name) });
  });

  it('chooses the other members at random (not always the same ones)', () => {
    const chosen = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const h = new Harness(seed);
      h.registerMany(6);
      const res = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
      chosen.add(res.peers!.slice(1).map((t) => t.name).sort().join(','));
    }
    expect(chosen.size).toBeGreaterThan(3);
  });

  it('only Free peers count: a second DHT is impossible, and leftovers after teardown are reusable', () => {
    const h = new Harness();
    h.registerMany(3);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    ok(h.as('peer1', 'teardown-dht', 'peer1'));
    ok(h.as('peer1', 'teardown-complete', 'peer1'));
    ok(h.as('peer2', 'setup-dht', 'peer2', '3', '1950'));
    expect(h.core.dht!.leader).toBe('peer2');
  });
});

// ---------------------------------------------------------------- the other commands

function readyDht(peers = 5, n = 3, seed = 3): { h: Harness; leader: string; others: string[]; free: string[] } {
  const h = new Harness(seed);
  h.registerMany(peers);
  ok(h.as('peer1', 'setup-dht', 'peer1', String(n), '1950'));
  ok(h.as('peer1', 'dht-complete', 'peer1'));
  const members = h.members();
  return { h, leader: 'peer1', others: members.slice(1), free: [...h.core.peers.keys()].filter((x) => !members.includes(x)) };
}

describe('manager: dht-complete', () => {
  it('from the leader makes the DHT ready; a repeat is SUCCESS and changes nothing', () => {
    const { h, leader } = readyDht();
    expect(h.core.phase).toBe('ready');
    expect(h.core.nextDeadline(), 'nothing is awaited any more').toBeUndefined();
    const before = h.snapshot();
    ok(h.as(leader, 'dht-complete', leader));
    expect(h.snapshot()).toEqual(before);
  });

  it('from a member that is not the leader is NOT_LEADER and the manager keeps waiting', () => {
    const h = new Harness();
    h.registerMany(3);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    failed(h.as('peer2', 'dht-complete', 'peer2'), 'NOT_LEADER');
    expect(h.core.phase).toBe('building');
  });
});

describe('manager: query-dht', () => {
  it('from a Free peer returns the tuple of a member chosen at random', () => {
    const { h, free } = readyDht();
    const members = h.members();
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const res = h.as(free[0]!, 'query-dht', free[0]!);
      ok(res);
      const p = res.peer!;
      expect(members).toContain(p.name);
      const e = h.core.peers.get(p.name)!;
      expect(p).toEqual({ name: e.name, ip: e.ip, port: e.pport });
      seen.add(p.name);
    }
    expect(seen.size, 'all three members get asked sometimes').toBe(3);
  });

  it('accepts the optional event id', () => {
    const { h, free } = readyDht();
    ok(h.as(free[0]!, 'query-dht', free[0]!, '5536849'));
  });

  it('from a member is NOT_FREE; without a DHT, or while one is being built, NO_DHT/BUSY', () => {
    const { h, others } = readyDht();
    failed(h.as(others[0]!, 'query-dht', others[0]!), 'NOT_FREE');
    const h2 = new Harness();
    h2.registerMany(3);
    failed(h2.as('peer1', 'query-dht', 'peer1'), 'NO_DHT');
    ok(h2.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    failed(h2.as('peer1', 'query-dht', 'peer1'), 'BUSY');
  });

  it('from a name that is not registered is NOT_REGISTERED', () => {
    const { h } = readyDht();
    failed(h.send({ ip: '127.0.0.1', port: 7000 }, 'query-dht', ['ghost']), 'NOT_REGISTERED');
  });
});

describe('manager: leave-dht and dht-rebuilt', () => {
  it('a member leaves: it becomes Free, the others keep their roles', () => {
    const { h, leader, others } = readyDht();
    const leaver = others[0]!;
    ok(h.as(leaver, 'leave-dht', leaver));
    expect(h.core.dht!.initiator).toBe(leaver);
    expect(h.core.nextDeadline()).toBe(h.now + WAIT);
    ok(h.as(leaver, 'dht-rebuilt', leaver, leader));
    expect(h.state(leaver)).toBe('Free');
    expect(h.state(leader)).toBe('Leader');
    expect(h.state(others[1]!)).toBe('InDHT');
    expect(h.members().sort()).toEqual([leader, others[1]!].sort());
    expect(h.core.phase).toBe('ready');
    expect(h.core.nextDeadline()).toBeUndefined();
  });

  it('the leader leaves: the new leader is Leader, the old one Free', () => {
    const { h, leader, others } = readyDht();
    ok(h.as(leader, 'leave-dht', leader));
    ok(h.as(leader, 'dht-rebuilt', leader, others[0]!));
    expect(h.state(leader)).toBe('Free');
    expect(h.state(others[0]!)).toBe('Leader');
    expect(h.state(others[1]!)).toBe('InDHT');
    expect(h.core.dht!.leader).toBe(others[0]);
    expect(h.members()[0], 'members are listed from the leader').toBe(others[0]);
  });

  it('members leave until one remains; the last one gets LAST_MEMBER', () => {
    const { h, leader, others } = readyDht(5, 4);
    // leader leaves first, then members, until a single member (the leader of the moment) remains
    ok(h.as(leader, 'leave-dht', leader));
    ok(h.as(leader, 'dht-rebuilt', leader, others[0]!));
    ok(h.as(others[1]!, 'leave-dht', others[1]!));
    ok(h.as(others[1]!, 'dht-rebuilt', others[1]!, others[0]!));
    ok(h.as(others[2]!, 'leave-dht', others[2]!));
    ok(h.as(others[2]!, 'dht-rebuilt', others[2]!, others[0]!));
    expect(h.members()).toEqual([others[0]]);
    const before = h.snapshot();
    const res = h.as(others[0]!, 'leave-dht', others[0]!);
    failed(res, 'LAST_MEMBER');
    expect(res.text).toContain('teardown-dht');
    expect(h.snapshot()).toEqual(before);
    // the last member tears it down instead
    ok(h.as(others[0]!, 'teardown-dht', others[0]!));
    ok(h.as(others[0]!, 'teardown-complete', others[0]!));
    expect([...h.core.peers.values()].every((p) => p.state === 'Free')).toBe(true);
  });

  it('a Free peer cannot leave: NOT_MEMBER', () => {
    const { h, free } = readyDht();
    failed(h.as(free[0]!, 'leave-dht', free[0]!), 'NOT_MEMBER');
  });

  it.each([
    ['the leaver itself', (l: string) => l],
    ['a Free peer outside the DHT', (_: string, free: string) => free],
    ['a name that is not registered', () => 'ghost'],
  ])('dht-rebuilt naming %s as new leader is BAD_LEADER and the leave stays pending', (_, pick) => {
    const { h, others, free } = readyDht();
    const leaver = others[0]!;
    ok(h.as(leaver, 'leave-dht', leaver));
    const before = h.snapshot();
    failed(h.as(leaver, 'dht-rebuilt', leaver, pick(leaver, free[0]!)), 'BAD_LEADER');
    expect(h.snapshot()).toEqual(before);
    expect(h.core.phase).toBe('leaving');
    ok(h.as(leaver, 'dht-rebuilt', leaver, 'peer1'));
  });

  it('dht-rebuilt from a peer other than the leaver is NOT_INITIATOR', () => {
    const { h, leader, others } = readyDht();
    ok(h.as(others[0]!, 'leave-dht', others[0]!));
    const res = h.as(others[1]!, 'dht-rebuilt', others[1]!, leader);
    failed(res, 'NOT_INITIATOR');
    expect(res.text).toContain(others[0]!);
    expect(h.core.phase).toBe('leaving');
  });
});

describe('manager: join-dht', () => {
  it('SUCCESS tells the joiner the leader and every member (leader first); dht-rebuilt makes it InDHT', () => {
    const { h, leader, free } = readyDht();
    const joiner = free[0]!;
    const res = h.as(joiner, 'join-dht', joiner);
    ok(res);
    const lead = h.core.peers.get(leader)!;
    expect(res.peer).toEqual({ name: leader, ip: lead.ip, port: lead.pport });
    expect(res.peers!.map((t: Tuple) => t.name)).toEqual(h.members());
    expect(h.core.phase).toBe('joining');
    ok(h.as(joiner, 'dht-rebuilt', joiner, leader));
    expect(h.state(joiner)).toBe('InDHT');
    expect(h.members()).toHaveLength(4);
    expect(h.members()).toContain(joiner);
  });

  it('if the joiner becomes leader, the old leader becomes InDHT', () => {
    const { h, leader, free } = readyDht();
    const joiner = free[0]!;
    ok(h.as(joiner, 'join-dht', joiner));
    ok(h.as(joiner, 'dht-rebuilt', joiner, joiner));
    expect(h.state(joiner)).toBe('Leader');
    expect(h.state(leader)).toBe('InDHT');
    expect([...h.core.peers.values()].filter((p) => p.state === 'Leader')).toHaveLength(1);
  });
});

describe('manager: deregister', () => {
  it('of an InDHT peer or the leader is IN_DHT and keeps it', () => {
    const { h, leader, others } = readyDht();
    failed(h.as(others[0]!, 'deregister', others[0]!), 'IN_DHT');
    failed(h.as(leader, 'deregister', leader), 'IN_DHT');
    expect(h.core.peers.size).toBe(5);
  });

  it('SUCCESS removes the peer; its name and ports are free again', () => {
    const { h, free } = readyDht();
    const gone = free[0]!;
    ok(h.as(gone, 'deregister', gone));
    expect(h.core.peers.has(gone)).toBe(false);
    failed(h.as(gone, 'query-dht', gone), 'NOT_REGISTERED');
    ok(h.register(h.defs.get(gone)!));
  });
});

describe('manager: teardown', () => {
  it('teardown-dht from a non-leader is NOT_LEADER; teardown-complete sets every member Free and allows a new setup', () => {
    const { h, leader, others } = readyDht();
    failed(h.as(others[0]!, 'teardown-dht', others[0]!), 'NOT_LEADER');
    ok(h.as(leader, 'teardown-dht', leader));
    expect(h.core.phase).toBe('tearing-down');
    ok(h.as(leader, 'teardown-complete', leader));
    expect(h.core.dht).toBeNull();
    expect([...h.core.peers.values()].map((p) => p.state)).toEqual(Array(5).fill('Free'));
    ok(h.as(others[1]!, 'setup-dht', others[1]!, '5', '2019'));
    expect(h.core.dht!.members).toHaveLength(5);
  });
});

// ---------------------------------------------------------------- ownership

describe('manager: a process cannot act for another (NOT_OWNER)', () => {
  type Case = [label: string, phase: Phase, cmd: ManagerRequest, role: Role];
  const cases: Case[] = [
    ['setup-dht', 'none', 'setup-dht', 'free'],
    ['deregister', 'none', 'deregister', 'free'],
    ['dht-complete', 'building', 'dht-complete', 'leader'],
    ['dht-abort', 'building', 'dht-abort', 'leader'],
    ['query-dht', 'ready', 'query-dht', 'free'],
    ['leave-dht', 'ready', 'leave-dht', 'member'],
    ['join-dht', 'ready', 'join-dht', 'free'],
    ['teardown-dht', 'ready', 'teardown-dht', 'leader'],
    ['dht-rebuilt', 'leaving', 'dht-rebuilt', 'initiator'],
    ['teardown-complete', 'tearing-down', 'teardown-complete', 'leader'],
  ];
  const spoofers: [string, (victim: PeerDef, other: PeerDef) => Addr][] = [
    ["the victim's p-port", (v) => ({ ip: v.ip, port: v.pport })],
    ["the victim's m-port on another host", (v) => ({ ip: '10.1.2.3', port: v.mport })],
    ["another registered peer's m-port", (_, o) => mAddr(o)],
  ];
  for (const [label, phase, cmd, role] of cases) {
    it.each(spoofers)(`${label} naming a peer, sent from %s, is NOT_OWNER and changes nothing`, (_, from) => {
      const f = inPhase(phase);
      const victim = f.h.defs.get(roleIn(f, role))!;
      const other = [...f.h.defs.values()].find((d) => d.name !== victim.name && f.h.core.peers.has(d.name))!;
      const before = f.h.snapshot();
      const res = f.h.send(from(victim, other), cmd, ARGS[cmd](f, victim.name));
      failed(res, 'NOT_OWNER');
      expect(f.h.snapshot()).toEqual(before);
      expect(f.h.core.phase).toBe(phase);
      // the genuine peer is still served
      ok(f.h.as(victim.name, cmd, ...ARGS[cmd](f, victim.name)));
    });
  }
});

// ---------------------------------------------------------------- duplicates

describe('manager: a duplicated request is answered again, never applied twice', () => {
  /** Send the same datagram twice: the answers must be identical and the second must change nothing. */
  let dupRid = 424_242;
  function twice(h: Harness, name: string, cmd: string, args: string[]): void {
    const d = h.defs.get(name)!;
    const rid = dupRid++;
    const first = h.send(mAddr(d), cmd, args, rid);
    const after = h.snapshot();
    const second = h.send(mAddr(d), cmd, args, rid);
    expect(second).toEqual(first);
    expect(first.code, `${cmd}: ${first.reason} ${first.text}`).toBe('SUCCESS');
    expect(h.snapshot(), 'the duplicate changed nothing').toEqual(after);
  }

  it('register: a duplicate is SUCCESS again, not DUPLICATE_NAME', () => {
    const h = new Harness();
    const d = peerDef(1);
    h.defs.set(d.name, d);
    twice(h, 'peer1', 'register', regArgs(d));
    expect(h.core.peers.size).toBe(1);
    // a genuinely new request (new rid) with the same name from elsewhere is a duplicate name
    const other = { ...d, mport: 7000, pport: 7001 };
    failed(h.send(mAddr(other), 'register', regArgs(other)), 'DUPLICATE_NAME');
  });

  it('setup-dht: the same members in both answers, one DHT', () => {
    const h = new Harness();
    h.registerMany(6);
    twice(h, 'peer1', 'setup-dht', ['peer1', '3', '1950']);
    expect([...h.core.peers.values()].filter((p) => p.state !== 'Free')).toHaveLength(3);
  });

  it('leave-dht, dht-rebuilt, deregister: the repeat is not NOT_PENDING / NOT_REGISTERED', () => {
    const { h, leader, others } = readyDht();
    const leaver = others[0]!;
    twice(h, leaver, 'leave-dht', [leaver]);
    twice(h, leaver, 'dht-rebuilt', [leaver, leader]);
    twice(h, leaver, 'deregister', [leaver]);
    expect(h.core.peers.has(leaver)).toBe(false);
  });

  it('teardown-dht and teardown-complete repeated', () => {
    const { h, leader } = readyDht();
    twice(h, leader, 'teardown-dht', [leader]);
    twice(h, leader, 'teardown-complete', [leader]);
    expect(h.core.dht).toBeNull();
  });

  it('query-dht repeated gets the same member, not a new random one', () => {
    const { h, free } = readyDht();
    const d = h.defs.get(free[0]!)!;
    const answers = Array.from({ length: 10 }, () => h.send(mAddr(d), 'query-dht', [d.name], 99));
    expect(new Set(answers.map((a) => a.peer!.name)).size).toBe(1);
  });

  it('the same rid from a different sender is a different request', () => {
    const h = new Harness();
    const a = peerDef(1);
    const b = peerDef(2);
    h.defs.set(a.name, a).set(b.name, b);
    ok(h.send(mAddr(a), 'register', regArgs(a), 5));
    ok(h.send(mAddr(b), 'register', regArgs(b), 5));
    expect(h.core.peers.size).toBe(2);
  });

  it('a FAILURE answer is repeated too, even if the state has changed since', () => {
    const h = new Harness();
    h.registerMany(3);
    const d = h.defs.get('peer1')!;
    const first = h.send(mAddr(d), 'query-dht', ['peer1'], 77);
    failed(first, 'NO_DHT');
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    expect(h.send(mAddr(d), 'query-dht', ['peer1'], 77)).toEqual(first);
  });
});

// ---------------------------------------------------------------- liveness

describe('manager: it never waits forever', () => {
  function building(seed = 5): Harness {
    const h = new Harness(seed);
    h.registerMany(4);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    return h;
  }

  const dissolvedSends = (effects: ManagerEffect[]): Send[] =>
    effects.filter((e): e is Send => e.kind === 'send' && e.msg.t === 'dissolved');

  it('the deadline is announced, and nothing happens before it', () => {
    const h = building();
    expect(h.core.nextDeadline()).toBe(T0 + WAIT);
    expect(h.core.onTimeout(T0 + WAIT - 1)).toEqual([]);
    expect(h.core.phase).toBe('building');
  });

  it('building: at the deadline it gives up, tells every member, frees everyone, and a new setup succeeds', () => {
    const h = building();
    const members = h.members();
    const effects = h.core.onTimeout(T0 + WAIT);
    const prints = effects.filter((e) => e.kind === 'print').map((e) => (e as { text: string }).text);
    expect(prints.some((t) => /gave up/.test(t) && t.includes('dht-complete') && t.includes('peer1')), prints.join('\n')).toBe(true);
    const sends = dissolvedSends(effects);
    expect(sends.map((s) => s.to).sort((a, b) => a.port - b.port)).toEqual(members.map((m) => mAddr(h.defs.get(m)!)).sort((a, b) => a.port - b.port));
    for (const s of sends) expect(decode(encode(s.msg)).ok, 'dissolved is a valid datagram').toBe(true);
    expect(h.core.dht).toBeNull();
    expect([...h.core.peers.values()].every((p) => p.state === 'Free')).toBe(true);
    h.now = T0 + WAIT + 1;
    ok(h.as('peer2', 'setup-dht', 'peer2', '4', '1950'));
  });

  it('a dissolved notice is resent until the member acknowledges it, and only the member can acknowledge', () => {
    const h = building();
    const sends = dissolvedSends(h.core.onTimeout(T0 + WAIT));
    expect(sends).toHaveLength(3);
    const [a, b] = sends as [Send, Send];
    // a forged ack for a's notice from b's address does not settle it; a's own ack does
    h.core.handle(T0 + WAIT + 10, { kind: 'datagram', from: b.to, msg: { t: 'ack', rid: a.msg.rid } });
    h.core.handle(T0 + WAIT + 10, { kind: 'datagram', from: b.to, msg: { t: 'ack', rid: b.msg.rid } });
    const resent = dissolvedSends(h.core.onTimeout(T0 + WAIT + DEFAULT_RETRY.rtoMs));
    expect(resent).toHaveLength(2);
    expect(resent.map((s) => s.msg.rid)).toContain(a.msg.rid);
    expect(resent.map((s) => s.msg.rid)).not.toContain(b.msg.rid);
    expect(resent.every((s) => s.attempt === 2)).toBe(true);
  });

  it('after every try it warns on the console instead of retrying forever', () => {
    const h = building();
    h.core.onTimeout(T0 + WAIT);
    let t = T0 + WAIT;
    let warnings: string[] = [];
    for (let i = 0; i < 50 && h.core.nextDeadline() !== undefined; i++) {
      t = h.core.nextDeadline()!;
      warnings = warnings.concat(h.core.onTimeout(t).filter((e) => e.kind === 'print').map((e) => (e as { text: string }).text));
    }
    expect(h.core.nextDeadline()).toBeUndefined();
    expect(warnings.filter((w) => w.includes('did not acknowledge'))).toHaveLength(3);
  });

  it.each(['leaving', 'joining', 'tearing-down'] as const)('%s: at the deadline the DHT is dissolved and every peer is Free', (phase) => {
    const f = inPhase(phase);
    const involved = new Set([...f.h.members(), ...(f.roles.initiator === undefined ? [] : [f.roles.initiator])]);
    const effects = f.h.core.onTimeout(T0 + WAIT);
    expect(f.h.core.phase).toBe('none');
    expect([...f.h.core.peers.values()].every((p) => p.state === 'Free')).toBe(true);
    const to = dissolvedSends(effects).map((s) => f.h.core.nameOf(s.to));
    expect(new Set(to)).toEqual(involved);
    expect(effects.some((e) => e.kind === 'print' && e.text.includes('gave up'))).toBe(true);
  });

  it('dht-abort by the leader during building: SUCCESS, everyone Free, the other members told', () => {
    const h = building();
    const members = h.members();
    ok(h.as('peer1', 'dht-abort', 'peer1'));
    expect(h.core.dht).toBeNull();
    expect([...h.core.peers.values()].every((p) => p.state === 'Free')).toBe(true);
    const told = dissolvedSends(h.effects).map((s) => h.core.nameOf(s.to)).sort();
    expect(told).toEqual(members.filter((m) => m !== 'peer1').sort());
    // (the members' acks of their dht-notices measured the round trip: the timeout may be below the first one)
    expect(h.core.nextDeadline(), 'only the notices\' retransmissions remain, no wait for dht-complete').toBeLessThanOrEqual(T0 + DEFAULT_RETRY.rtoMs);
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
  });
});

describe('manager: console', () => {
  it('status lists the DHT and every peer; an unknown line is explained, not thrown', () => {
    const { h } = readyDht();
    const status = h.core.handle(h.now, { kind: 'line', text: 'status' }).map((e) => (e as { text: string }).text);
    expect(status[0]).toMatch(/DHT: ready, year 1950, leader peer1, 3 members/);
    for (let i = 1; i <= 5; i++) expect(status.some((l) => l.includes(`peer${i}`))).toBe(true);
    const typo = h.core.handle(h.now, { kind: 'line', text: 'stauts' });
    expect(typo).toEqual([{ kind: 'print', text: expect.stringContaining("did you mean 'status'") }]);
    for (const word of ['__proto__', 'constructor', 'toString']) {
      expect(h.core.handle(h.now, { kind: 'line', text: word })).toEqual([{ kind: 'print', text: expect.stringContaining('unknown command') }]);
    }
    expect(h.core.handle(h.now, { kind: 'line', text: 'quit' })).toContainEqual({ kind: 'exit', code: 0 });
  });
});

describe('manager: counts in its sentences are singular or plural as they should be', () => {
  it('register and deregister: 1 peer registered / remains, 2 peers registered, 0 peers remain', () => {
    const h = new Harness();
    expect(h.register(peerDef(1)).text).toMatch(/; 1 peer registered$/);
    expect(h.register(peerDef(2)).text).toMatch(/; 2 peers registered$/);
    expect(h.as('peer2', 'deregister', 'peer2').text).toBe('peer2 deregistered; 1 peer remains');
    expect(h.as('peer1', 'deregister', 'peer1').text).toBe('peer1 deregistered; 0 peers remain');
  });

  it('a DHT of one member: dht-rebuilt and status say 1 member', () => {
    const { h, leader, others } = readyDht(3, 3);
    ok(h.as(leader, 'leave-dht', leader));
    ok(h.as(leader, 'dht-rebuilt', leader, others[0]!));
    ok(h.as(others[1]!, 'leave-dht', others[1]!));
    expect(h.as(others[1]!, 'dht-rebuilt', others[1]!, others[0]!).text).toBe(`${others[1]} left; the DHT has 1 member led by ${others[0]}`);
    const status = h.core.handle(h.now, { kind: 'line', text: 'status' }).map((e) => (e as { text: string }).text);
    expect(status[0]).toBe(`DHT: ready, year 1950, leader ${others[0]}, 1 member (${others[0]})`);
  });
});

describe('manager: membership is stored once', () => {
  it("a peer's state follows the DHT's leader and members, with nothing to keep in step", () => {
    const { h, leader, others, free } = readyDht();
    expect(h.core.stateOf(leader)).toBe('Leader');
    expect(h.core.peers.get(others[0]!)!.state).toBe('InDHT');
    expect(h.core.peers.get(free[0]!)!.state).toBe('Free');
    ok(h.as(leader, 'teardown-dht', leader));
    ok(h.as(leader, 'teardown-complete', leader));
    expect([...h.core.peers.values()].map((p) => p.state)).toEqual(Array(5).fill('Free'));
  });
});

describe('manager: invariants are asserted after every event', () => {
  it.each([
    ['the leader is not a member', (d: NonNullable<ManagerCore['dht']>) => { d.leader = 'peer9'; }],
    ['a member is not registered', (d: NonNullable<ManagerCore['dht']>) => { d.members.push('ghost'); }],
    ['a waiting phase without a deadline', (d: NonNullable<ManagerCore['dht']>) => { d.phase = 'tearing-down'; }],
    ['an initiator outside leaving/joining', (d: NonNullable<ManagerCore['dht']>) => { d.initiator = d.members[1]!; }],
    ['a peer listed twice', (d: NonNullable<ManagerCore['dht']>) => { d.members.push(d.members[1]!); }],
  ])('%s: the next event throws InvariantError', (_, corrupt) => {
    const { h } = readyDht();
    corrupt(h.core.dht!);
    expect(() => h.core.handle(h.now, { kind: 'line', text: 'help' })).toThrow(InvariantError);
    expect(() => h.core.onTimeout(h.now)).toThrow(InvariantError);
  });
});

// ---------------------------------------------------------------- default mode (PROTOCOL §8)

describe('manager: default mode — tokens, secrets, replays', () => {
  /** A command straight into the core, as forged: returns every effect. */
  const forge = (h: Harness, from: Addr, cmd: string, args: string[], rid: number, tok?: string): ManagerEffect[] =>
    h.core.handle(h.now, { kind: 'datagram', from, msg: { t: 'cmd', rid, cmd, args, ...(tok !== undefined ? { tok } : {}) } });
  const sendsOf = (effects: ManagerEffect[]) => effects.filter((e): e is Send => e.kind === 'send');

  it('register gives a token; a re-registration after deregister gets a new one', () => {
    const h = new Harness();
    const first = h.register(peerDef(1));
    expect(first.tok).toMatch(/^[A-Za-z0-9_-]{22}$/);
    ok(h.as('peer1', 'deregister', 'peer1'));
    const again = h.register(peerDef(1));
    expect(again.tok).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(again.tok).not.toBe(first.tok);
  });

  it('every response to a registered peer carries its token', () => {
    const h = new Harness();
    h.registerMany(3);
    const token = h.tokens.get('127.0.0.1:6002');
    expect(h.as('peer1', 'query-dht', 'peer1').tok).toBe(token); // a FAILURE too
    expect(h.as('peer1', 'deregister', 'peer1').tok, 'the last one, after deregister').toBe(token);
  });

  it.each([['without a token', undefined], ['with another token', 'forgedTokenAAAAAAAAAAA']])('a command from a peer\'s own address %s gets no answer and changes nothing', (_, tok) => {
    const h = new Harness();
    h.registerMany(3);
    const before = h.snapshot();
    const effects = forge(h, mAddr(h.defs.get('peer1')!), 'deregister', ['peer1'], 1000, tok);
    expect(sendsOf(effects)).toEqual([]);
    expect(effects.some((e) => e.kind === 'note' && e.verdict === 'ignored')).toBe(true);
    expect(h.snapshot()).toEqual(before);
    expect(h.core.peers.has('peer1')).toBe(true);
  });

  it('a command with the token but an old request id (a replay the answer cache no longer holds) gets no answer', () => {
    const h = new Harness();
    h.registerMany(3);
    const tok = h.tokens.get('127.0.0.1:6002');
    ok(h.as('peer1', 'setup-dht', 'peer1', '3', '1950'));
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    const before = h.snapshot();
    const effects = forge(h, mAddr(h.defs.get('peer1')!), 'teardown-dht', ['peer1'], 2, tok); // rid 2 < the last taken
    expect(sendsOf(effects)).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.core.phase).toBe('ready');
  });

  it('setup-dht gives the leader the DHT\'s secret and tells each other member with a dht-notice (its token, the leader, the secret)', () => {
    const h = new Harness();
    h.registerMany(4);
    const res = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
    ok(res);
    expect(res.sec).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const notices = sendsOf(h.effects).filter((s) => s.msg.t === 'dht-notice');
    expect(notices.map((s) => h.core.nameOf(s.to)).sort()).toEqual(h.members().slice(1).sort());
    for (const n of notices) {
      const m = n.msg as MessageOf<'dht-notice'>;
      expect(m).toMatchObject({ dht: res.dht, sec: res.sec, leader: res.peers![0] });
      expect(m.tok).toBe(h.tokens.get(`${n.to.ip}:${n.to.port}`));
      expect(decode(encode(m)).ok).toBe(true);
    }
  });

  it('query-dht gives a capability bound to the querier; join-dht gives the secret and vouches for the joiner to the leader', () => {
    const h = new Harness();
    h.registerMany(5);
    const setup = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    const free = ['peer2', 'peer3', 'peer4', 'peer5'].filter((p) => !h.members().includes(p));
    const q = h.as(free[0]!, 'query-dht', free[0]!);
    const d = h.defs.get(free[0]!)!;
    expect(q.cap).toBe(queryCapability(setup.sec!, { name: d.name, ip: d.ip, port: d.pport }));
    const j = h.as(free[1]!, 'join-dht', free[1]!);
    expect(j.sec).toBe(setup.sec);
    const vouch = sendsOf(h.effects).filter((s) => s.msg.t === 'join-notice');
    expect(vouch.map((s) => h.core.nameOf(s.to))).toEqual(['peer1']);
    const jd = h.defs.get(free[1]!)!;
    expect(vouch[0]!.msg).toMatchObject({ dht: setup.dht, joiner: { name: jd.name, ip: jd.ip, port: jd.pport } });
  });

  it('a new DHT after a teardown gets a new secret', () => {
    const h = new Harness();
    h.registerMany(3);
    const a = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
    ok(h.as('peer1', 'dht-complete', 'peer1'));
    ok(h.as('peer1', 'teardown-dht', 'peer1'));
    ok(h.as('peer1', 'teardown-complete', 'peer1'));
    const b = h.as('peer1', 'setup-dht', 'peer1', '3', '1950');
    expect(b.sec).not.toBe(a.sec);
  });
});
