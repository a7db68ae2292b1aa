// Failure detection (PROTOCOL §4.11): the pure detector, and the manager declaring a death.
import { describe, it, expect } from 'vitest';
import { DEFAULT_LIVENESS, Liveness } from '../../../src/manager/liveness.js';
import { ManagerCore, type ManagerEffect } from '../../../src/manager/core.js';
import { DEFAULT_RETRY, type Addr } from '../../../src/reliable/index.js';
import { seededRandom } from '../../../src/sim/rng.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { Heartbeat } from '../../../src/peer/heartbeat.js';

/** Without the grace of a fresh registration, except in the test of the grace itself. */
const C = { ...DEFAULT_LIVENESS, graceMs: 0 };

/** Drive the detector tick by tick until `until`; returns every probe and death with its time. */
function run(l: Liveness, from: number, until: number, heard: (now: number) => string[] = () => []) {
  const probes: [number, string][] = [];
  const dead: [number, string][] = [];
  for (let now = from; now <= until; now += 1) {
    for (const name of heard(now)) l.heard(name, now);
    const next = l.nextDeadline();
    if (next === undefined || now < next) continue;
    const due = l.due(now);
    for (const p of due.probe) probes.push([now, p]);
    for (const d of due.dead) dead.push([now, d.name]);
  }
  return { probes, dead };
}

describe('Liveness (the detector)', () => {
  it('scans that keep coming late (an overloaded machine) stretch the windows; punctual scans bring them back', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    l.heard('a', 0);
    // Every scan 40 ms late: the manager's machine is overloaded.
    let t = 0;
    for (let i = 0; i < 16; i++) {
      t = l.nextDeadline()! + 40;
      l.heard('a', t);
      l.due(t);
    }
    expect(l.health).toBe(8);
    // Now 'a' goes silent: at 1.7 s (the normal window) it is not declared dead yet.
    const silentFrom = t;
    let declaredAt: number | null = null;
    while (declaredAt === null && t < silentFrom + 20_000) {
      t = l.nextDeadline()! + 40;
      if (l.due(t).dead.length > 0) declaredAt = t;
    }
    expect(declaredAt! - silentFrom).toBeGreaterThan(C.deadMs * 2);
    // Healthy again: the normal window.
    l.watch('b', t);
    l.heard('b', t);
    for (let i = 0; i < 40; i++) l.due((t = l.nextDeadline()!));
    expect(l.health).toBe(0);
  });

  it('a scan that comes late (the manager itself stalled) declares nobody dead: the peers\' datagrams of that time may wait unread', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    l.heard('a', 0);
    // The process was not running for 5 s: its timer fires long after it was due.
    const due = l.due(5_000);
    expect(due.dead).toEqual([]);
    expect(l.stalls).toBe(1);
    // The alive that waited in the socket is read next: nothing more is suspected.
    l.heard('a', 5_001);
    expect(l.isSuspected('a', 5_050)).toBe(false);
    // A peer that really is silent after the stall is still declared dead, a window later.
    let t = 5_050;
    while (l.due(t).dead.length === 0 && t < 10_000) t = l.nextDeadline()!;
    expect(t - 5_001).toBeGreaterThanOrEqual(C.deadMs);
    expect(t - 5_001).toBeLessThanOrEqual(C.deadMs + C.tickMs);
  });

  it('a peer heard every heartbeat is never suspected nor declared dead', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    const r = run(l, 0, 20_000, (now) => (now % C.heartbeatMs === 0 ? ['a'] : []));
    expect(r).toEqual({ probes: [], dead: [] });
    expect(l.size).toBe(1);
  });

  it('a silent peer is probed from suspectMs every probeMs, and declared dead at deadMs (within one tick)', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    const r = run(l, 0, 5_000);
    expect(r.dead).toHaveLength(1);
    expect(r.dead[0]![0]).toBeGreaterThanOrEqual(C.deadMs);
    expect(r.dead[0]![0]).toBeLessThanOrEqual(C.deadMs + C.tickMs);
    expect(r.probes[0]![0]).toBeGreaterThanOrEqual(C.suspectMs);
    expect(r.probes[0]![0]).toBeLessThanOrEqual(C.suspectMs + C.tickMs);
    const gaps = r.probes.slice(1).map(([t], i) => t - r.probes[i]![0]);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(C.probeMs);
    expect(r.probes.length).toBeGreaterThanOrEqual(Math.floor((C.deadMs - C.suspectMs) / C.tickMs) - 1);
    expect(l.size).toBe(0);
    expect(l.nextDeadline(), 'no timer once nobody is watched').toBeUndefined();
  });

  it('an answer to a probe clears the suspicion', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    l.watch('b', 0);
    // a is silent until 1,000 ms (suspected and probed from 700 ms), then beats again. b stays silent.
    const r = run(l, 0, 3_000, (now) => (now >= 1_000 && now % C.heartbeatMs === 0 ? ['a'] : []));
    expect(r.dead.map(([, n]) => n)).toEqual(['b']);
    expect(l.isSuspected('a', 3_000)).toBe(false);
    expect(l.suspicions).toBeGreaterThanOrEqual(2);
  });

  it('a fresh peer gets the grace before its first datagram; a retransmitted register renews it; the first alive ends it', () => {
    const l = new Liveness(DEFAULT_LIVENESS);
    l.watch('a', 0);
    l.watch('b', 0);
    l.watch('c', 0);
    const r = run(l, 0, 30_000, (now) => [
      ...(now === 9_000 ? ['b-retransmit'] : []),
      ...(now === 1_000 ? ['c'] : []),
    ].filter((n) => (n === 'b-retransmit' ? (l.retransmitted('b', now), false) : true)));
    const at = new Map(r.dead.map(([t, n]) => [n, t]));
    expect(at.get('c')!).toBeGreaterThanOrEqual(1_000 + DEFAULT_LIVENESS.deadMs);
    expect(at.get('c')!).toBeLessThanOrEqual(1_000 + DEFAULT_LIVENESS.deadMs + DEFAULT_LIVENESS.tickMs);
    expect(at.get('a')!).toBeGreaterThanOrEqual(DEFAULT_LIVENESS.graceMs + DEFAULT_LIVENESS.deadMs);
    expect(at.get('b')!).toBeGreaterThanOrEqual(9_000 + DEFAULT_LIVENESS.graceMs + DEFAULT_LIVENESS.deadMs);
  });

  it('forget stops watching; the timer stops with the last peer', () => {
    const l = new Liveness(C);
    l.watch('a', 0);
    expect(l.nextDeadline()).toBe(C.tickMs);
    l.forget('a');
    expect(l.nextDeadline()).toBeUndefined();
  });
});

describe('Heartbeat (the peer side)', () => {
  it('beats every period, and after a long pause resumes one period later without a burst', () => {
    const h = new Heartbeat();
    expect(h.nextDeadline()).toBeUndefined();
    h.start(0, 250);
    const beats: number[] = [];
    for (let now = 0; now <= 1_000; now++) if (h.due(now)) beats.push(now);
    expect(beats).toEqual([250, 500, 750, 1000]);
    expect(h.due(5_000)).toBe(true);
    expect(h.due(5_001)).toBe(false);
    expect(h.nextDeadline()).toBe(5_250);
    h.stop();
    expect(h.due(10_000)).toBe(false);
  });
});

type Res = MessageOf<'res'>;
type Send = Extract<ManagerEffect, { kind: 'send' }>;
const addr = (i: number): Addr => ({ ip: '127.0.0.1', port: 6000 + 2 * i });

describe('the manager declares a death', () => {
  function manager() {
    const core = new ManagerCore({ waitTimeoutMs: 60_000, retry: DEFAULT_RETRY, liveness: C }, { random: seededRandom(1), secret: seededSecret(seededRandom(2)) });
    const tokens = new Map<number, string>();
    let rid = 1;
    let now = 0;
    const send = (i: number, cmd: string, args: string[], again?: number): Res => {
      const tok = tokens.get(i);
      const effects = core.handle(now, { kind: 'datagram', from: addr(i), msg: { t: 'cmd', rid: again ?? rid++, cmd, args, ...(tok && cmd !== 'register' ? { tok } : {}) } });
      for (const e of effects) if (e.kind === 'send' && e.msg.t !== 'res') core.handle(now, { kind: 'datagram', from: e.to, msg: { t: 'ack', rid: e.msg.rid } });
      const res = effects.find((e): e is Send => e.kind === 'send' && e.msg.t === 'res')!.msg as Res;
      if (cmd === 'register' && res.code === 'SUCCESS') tokens.set(i, res.tok!);
      return res;
    };
    const register = (i: number): Res => send(i, 'register', [`peer${i}`, '127.0.0.1', String(6000 + 2 * i), String(6001 + 2 * i)]);
    /** Advance to `until`, every peer in `alive` beating; returns the prints and the probes sent. */
    /** `reachable`: peers the manager cannot hear but others can (their ping-req rounds are answered). */
    const advance = (until: number, alive: number[], reachable: number[] = []) => {
      const prints: string[] = [];
      const probes: number[] = [];
      const repairs: { port: number; dead: string }[] = [];
      const pingReqs: { helper: number; target: number; nonce: string }[] = [];
      for (; now <= until; now += 1) {
        if (now % C.heartbeatMs === 0) for (const i of alive) core.handle(now, { kind: 'datagram', from: addr(i), msg: { t: 'alive', rid: 0, tok: tokens.get(i)! } });
        if (now >= (core.nextDeadline() ?? Infinity)) {
          for (const e of core.onTimeout(now)) {
            if (e.kind === 'print') prints.push(`${now} ${e.text}`);
            if (e.kind === 'send' && e.msg.t === 'probe') probes.push(e.to.port);
            if (e.kind === 'send' && e.msg.t === 'repair') repairs.push({ port: e.to.port, dead: e.msg.dead });
            if (e.kind === 'send' && e.msg.t === 'ping-req') {
              pingReqs.push({ helper: e.to.port, target: e.msg.port, nonce: e.msg.nonce });
              const target = (e.msg.port - 6000) / 2;
              const helper = (e.to.port - 6000) / 2;
              if (reachable.includes(target) && alive.includes(helper)) {
                core.handle(now, { kind: 'datagram', from: e.to, msg: { t: 'alive', rid: 0, tok: tokens.get(helper)!, nonce: e.msg.nonce } });
              }
            }
          }
        }
      }
      return { prints, probes, repairs, pingReqs };
    };
    return { core, register, send, advance, tokens, get now() { return now; } };
  }

  it('register answers carry hb; a dead Free peer is deregistered within ~1.75 s, and may register again', () => {
    const m = manager();
    for (let i = 1; i <= 4; i++) expect(m.register(i).hb).toBe(C.heartbeatMs);
    m.advance(2_000, [1, 2, 3, 4]);
    const r = m.advance(5_000, [1, 2, 3]);
    expect(r.probes.every((p) => p === addr(4).port)).toBe(true);
    expect(r.probes.length).toBeGreaterThan(10);
    const line = r.prints.find((l) => l.includes('peer4 declared dead'))!;
    expect(line).toBeDefined();
    expect(Number(line.split(' ')[0]) - 2_000).toBeLessThanOrEqual(C.deadMs + C.tickMs);
    expect(m.core.peers.has('peer4')).toBe(false);
    expect(m.core.peers.size).toBe(3);
    expect(m.register(4).code).toBe('SUCCESS');
  });

  it('indirect probes: a peer the manager cannot hear, but other peers reach, is not declared dead; when they cannot either, it is', () => {
    const m = manager();
    for (let i = 1; i <= 4; i++) m.register(i);
    m.advance(2_000, [1, 2, 3, 4]);
    // peer4's own datagrams never reach the manager, but its pongs reach peers 1–3.
    const r = m.advance(8_000, [1, 2, 3], [4]);
    expect(m.core.peers.has('peer4')).toBe(true);
    expect(r.prints.filter((l) => l.includes('declared dead'))).toEqual([]);
    expect(r.pingReqs.length).toBeGreaterThan(0);
    expect(r.pingReqs.every((p) => p.target === addr(4).port && p.helper !== addr(4).port)).toBe(true);
    // Two helpers a round at most: rounds come every indirectMs while suspected.
    expect(r.pingReqs.length).toBeLessThanOrEqual(2 * Math.ceil(6_000 / C.indirectMs) + 2);
    // Nobody reaches it any more: declared dead within a window.
    const gone = m.advance(11_000, [1, 2, 3]);
    expect(gone.prints.some((l) => l.includes('peer4 declared dead'))).toBe(true);
    expect(m.core.peers.has('peer4')).toBe(false);
  });

  it('a suspected peer that never said alive (its register answer lost) is sent that answer again, not a probe it cannot answer', () => {
    const m = manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    const sentTo3: string[] = [];
    for (let now = 0; now <= 1_500; now += 50) {
      for (const i of [1, 2]) m.core.handle(now, { kind: 'datagram', from: addr(i), msg: { t: 'alive', rid: 0, tok: m.tokens.get(i)! } });
      for (const e of m.core.onTimeout(now)) if (e.kind === 'send' && e.to.port === addr(3).port) sentTo3.push(e.msg.t === 'res' ? `res ${e.msg.cmd} ${e.msg.code}` : e.msg.t);
    }
    expect(sentTo3.length).toBeGreaterThan(0);
    expect(new Set(sentTo3)).toEqual(new Set(['res register SUCCESS']));
    // Once it has said alive, a suspicion gets a plain probe.
    m.core.handle(1_600, { kind: 'datagram', from: addr(3), msg: { t: 'alive', rid: 0, tok: m.tokens.get(3)! } });
    const later: string[] = [];
    for (let now = 1_650; now <= 3_000; now += 50) {
      for (const i of [1, 2]) m.core.handle(now, { kind: 'datagram', from: addr(i), msg: { t: 'alive', rid: 0, tok: m.tokens.get(i)! } });
      for (const e of m.core.onTimeout(now)) if (e.kind === 'send' && e.to.port === addr(3).port) later.push(e.msg.t);
    }
    expect(later).toContain('probe');
    expect(later).not.toContain('res');
  });

  it('after a death, a register retransmitted from the dead registration is taken anew, not answered with the old SUCCESS', () => {
    const m = manager();
    for (let i = 1; i <= 2; i++) m.register(i);
    const first = m.core.peers.get('peer2')!.token;
    const firstRid = m.register(3).rid - 1; // peer2's register was the request just before
    m.advance(4_000, [1, 3]);
    expect(m.core.peers.has('peer2')).toBe(false);
    // The very same datagram again (its answer was lost, say, all along).
    const again = m.send(2, 'register', ['peer2', '127.0.0.1', String(addr(2).port), String(addr(2).port + 1)], firstRid);
    expect(again.code).toBe('SUCCESS');
    expect(m.core.peers.get('peer2')!.token).toBe(again.tok);
    expect(again.tok).not.toBe(first);
  });

  it('an alive with a nonce counts only from the helper it was asked of, once', () => {
    const m = manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    m.advance(2_000, [1, 2, 3]);
    const r = m.advance(2_800, [1, 2]);
    const req = r.pingReqs[0]!;
    expect(req).toBeDefined();
    const helper = (req.helper - 6000) / 2;
    const other = [1, 2].find((i) => i !== helper)!;
    const alive = (i: number) => m.core.handle(m.now, { kind: 'datagram', from: addr(i), msg: { t: 'alive', rid: 0, tok: m.tokens.get(i)!, nonce: req.nonce } });
    alive(other);
    expect(m.core.indirect.confirmed).toBe(0);
    alive(helper);
    expect(m.core.indirect.confirmed).toBe(1);
    alive(helper);
    expect(m.core.indirect.confirmed).toBe(1);
  });

  it('a dead member of a ready DHT: the leader is told to repair without it, its registration removed; dht-rebuilt makes it ready', () => {
    const m = manager();
    for (let i = 1; i <= 4; i++) m.register(i);
    expect(m.send(1, 'setup-dht', ['peer1', '3', '1996']).code).toBe('SUCCESS');
    expect(m.send(1, 'dht-complete', ['peer1']).code).toBe('SUCCESS');
    const [leader, dead, other] = m.core.dht!.members as [string, string, string];
    const i = Number(dead.slice(4));
    const r = m.advance(4_000, [1, 2, 3, 4].filter((k) => k !== i));
    expect(r.prints.some((l) => l.includes(`${dead} declared dead`))).toBe(true);
    expect(r.prints.some((l) => l.includes(`${leader} repairs the DHT without it`))).toBe(true);
    // Sent to the leader, and resent until acknowledged (nobody acknowledges here).
    expect(r.repairs.length).toBeGreaterThan(0);
    for (const x of r.repairs) expect(x).toEqual({ port: addr(1).port, dead });
    expect(m.core.dht).toMatchObject({ phase: 'repairing', leader, members: [leader, other], initiator: leader });
    expect(m.core.peers.has(dead)).toBe(false);
    expect(m.send(1, 'dht-rebuilt', [leader, leader]).code).toBe('SUCCESS');
    expect(m.core.dht).toMatchObject({ phase: 'ready', leader, members: [leader, other] });
  });

  it('a dead leader: the next member leads and repairs', () => {
    const m = manager();
    for (let i = 1; i <= 4; i++) m.register(i);
    expect(m.send(1, 'setup-dht', ['peer1', '3', '1996']).code).toBe('SUCCESS');
    expect(m.send(1, 'dht-complete', ['peer1']).code).toBe('SUCCESS');
    const [, next, last] = m.core.dht!.members as [string, string, string];
    m.advance(4_000, [2, 3, 4]);
    expect(m.core.dht).toMatchObject({ phase: 'repairing', leader: next, members: [next, last], initiator: next });
    expect(m.core.peers.get(next)!.state).toBe('Leader');
  });

  it('a member dead while the DHT is being built: the DHT is dissolved (the others are told)', () => {
    const m = manager();
    for (let i = 1; i <= 4; i++) m.register(i);
    expect(m.send(1, 'setup-dht', ['peer1', '3', '1996']).code).toBe('SUCCESS');
    const dead = m.core.dht!.members[1]!;
    const i = Number(dead.slice(4));
    const r = m.advance(4_000, [1, 2, 3, 4].filter((k) => k !== i));
    expect(r.prints.some((l) => l.includes('the DHT is dissolved'))).toBe(true);
    expect(m.core.dht).toBeNull();
    expect(m.core.peers.has(dead)).toBe(false);
  });

  it('an alive without the token, or from another address, does not count', () => {
    const m = manager();
    m.register(1);
    const tok = (m.core.peers.get('peer1')!).token;
    for (let now = 0; now < 3_000; now += 100) {
      m.core.handle(now, { kind: 'datagram', from: { ip: '127.0.0.1', port: 9999 }, msg: { t: 'alive', rid: 0, tok } });
      m.core.handle(now, { kind: 'datagram', from: addr(1), msg: { t: 'alive', rid: 0, tok: 'AAAAAAAAAAAAAAAAAAAAAA' } });
    }
    m.advance(3_000, []);
    expect(m.core.peers.has('peer1')).toBe(false);
  });
});
