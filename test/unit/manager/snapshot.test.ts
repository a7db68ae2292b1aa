// The manager's durable state (docs/PROTOCOL.md §4.10): the core emits a `persist` change before
// the answer of every change; the changes add up (Mirror) to a snapshot; a new core handed the
// snapshot (`restored`) goes on where the old one was, answers a retransmitted request the same
// way, and refuses a snapshot that does not check out (one line, exit 1).
import { describe, expect, it } from 'vitest';
import { ManagerCore, type ManagerEffect } from '../../../src/manager/core.js';
import { DEFAULT_RETRY, type Addr } from '../../../src/reliable/index.js';
import { seededRandom } from '../../../src/sim/rng.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { DEPARTED_ANSWERS, Mirror, SNAPSHOT_VERSION, type Change } from '../../../src/manager/snapshot.js';

type Res = MessageOf<'res'>;
const WAIT = 60_000;
const addr = (i: number): Addr => ({ ip: '127.0.0.1', port: 6000 + 2 * i });
const newCore = (durable = true): ManagerCore => new ManagerCore({ waitTimeoutMs: WAIT, retry: DEFAULT_RETRY, durable }, { random: seededRandom(5), secret: seededSecret(seededRandom(105)) });

class Manager {
  core = newCore();
  /** What the journal holds: the changes persisted, added up. */
  readonly mirror = new Mirror();
  /** Every change persisted, as JSON text. */
  readonly changes: string[] = [];
  private rid = 100;
  now = 1000;

  run(effects: ManagerEffect[]): ManagerEffect[] {
    for (const e of effects) {
      // Peers acknowledge the manager's dht-notice and join-notice at once, as real ones do; the
      // tests about `dissolved` notices decide themselves whether those are acknowledged.
      if (e.kind === 'send' && (e.msg.t === 'dht-notice' || e.msg.t === 'join-notice')) {
        this.run(this.core.handle(this.now, { kind: 'datagram', from: e.to, msg: { t: 'ack', rid: e.msg.rid } }));
      }
      if (e.kind !== 'persist') continue;
      this.changes.push(JSON.stringify(e.change));
      expect(this.mirror.apply(JSON.parse(JSON.stringify(e.change)))).toEqual({ ok: true, value: null });
    }
    return effects;
  }

  /** The state the journal holds, as JSON text. */
  get saved(): string | null {
    return this.mirror.applied === 0 ? null : JSON.stringify(this.mirror.snapshot());
  }

  send(i: number, cmd: string, args: string[], rid = this.rid++): { res: Res; effects: ManagerEffect[] } {
    // As a real peer: the token its registration got, on every later command (a restored
    // manager keeps it with the peer's entry).
    const tok = cmd === 'register' ? undefined : this.core.peers.get(`peer${i}`)?.token;
    const msg = { t: 'cmd' as const, rid, cmd, args, ...(tok !== undefined ? { tok } : {}) };
    const effects = this.run(this.core.handle(this.now, { kind: 'datagram', from: addr(i), msg }));
    const res = effects.find((e): e is Extract<ManagerEffect, { kind: 'send' }> => e.kind === 'send' && e.msg.t === 'res');
    return { res: res!.msg as Res, effects };
  }

  as(i: number, cmd: string, args: string[] = [`peer${i}`]): Res {
    return this.send(i, cmd, args).res;
  }

  register(i: number): Res {
    return this.as(i, 'register', [`peer${i}`, '127.0.0.1', String(addr(i).port), String(addr(i).port + 1)]);
  }

  /** kill -9 and start again on the saved state: a new core. */
  restart(at = this.now + 5000): ManagerEffect[] {
    this.now = at;
    this.core = newCore();
    const state = this.saved === null ? null : JSON.parse(this.saved) as unknown;
    return this.run(this.core.handle(this.now, { kind: 'restored', state, source: 'state.jsonl' }));
  }

  status(): string[] {
    return this.core.handle(this.now, { kind: 'line', text: 'status' }).map((e) => (e as { text: string }).text);
  }
}

const kinds = (effects: ManagerEffect[]): string[] => effects.map((e) => (e.kind === 'send' ? `send ${e.msg.t}` : e.kind));

/** peer1…peer4 registered; peer1 leads a ready DHT of 3. */
function ready(): Manager {
  const m = new Manager();
  for (let i = 1; i <= 4; i++) expect(m.register(i).code).toBe('SUCCESS');
  expect(m.as(1, 'setup-dht', ['peer1', '3', '1950']).code).toBe('SUCCESS');
  expect(m.as(1, 'dht-complete').code).toBe('SUCCESS');
  return m;
}

describe('manager: persist before send', () => {
  it('a change is persisted before its answer goes out; the snapshot holds the change and its answer', () => {
    const m = new Manager();
    const { res, effects } = m.send(1, 'register', ['peer1', '127.0.0.1', '6002', '6003'], 77);
    expect(res.code).toBe('SUCCESS');
    expect(kinds(effects)).toEqual(['print', 'persist', 'send res']);
    const snap = JSON.parse(m.saved!) as { peers: { name: string }[]; answers: { to: Addr; res: Res }[] };
    expect(snap.peers.map((p) => p.name)).toEqual(['peer1']);
    expect(snap.answers).toEqual([{ to: addr(1), res }]);
  });

  it('nothing is persisted for a FAILURE, a query-dht, a retransmission, a console line; nor without durable', () => {
    const m = ready();
    const before = m.saved;
    expect(m.send(9, 'setup-dht', ['peer9', '3', '1950']).effects.some((e) => e.kind === 'persist')).toBe(false);
    expect(m.send(4, 'query-dht', ['peer4']).effects.some((e) => e.kind === 'persist')).toBe(false);
    expect(m.send(4, 'leave-dht', ['peer4']).effects.some((e) => e.kind === 'persist')).toBe(false); // NOT_MEMBER
    const again = m.send(1, 'dht-complete', ['peer1'], 105); // peer1's dht-complete again: answered from the cache
    expect(again.effects.some((e) => e.kind === 'persist')).toBe(false);
    expect(m.status().length).toBeGreaterThan(0);
    expect(m.saved).toBe(before);
    const plain = newCore(false);
    const effects = plain.handle(0, { kind: 'datagram', from: addr(1), msg: { t: 'cmd', rid: 1, cmd: 'register', args: ['peer1', '127.0.0.1', '6002', '6003'] } });
    expect(kinds(effects)).toEqual(['print', 'send res']);
  });

  it('giving up a wait persists the dissolved DHT before the dissolved notices go out, and saves the notices', () => {
    const m = new Manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    m.as(1, 'setup-dht', ['peer1', '3', '1950']);
    const effects = m.run(m.core.onTimeout(1000 + WAIT));
    expect(kinds(effects)).toEqual(['print', 'persist', 'send dissolved', 'send dissolved', 'send dissolved']);
    const snap = JSON.parse(m.saved!) as { dht: unknown; notices: { to: Addr; msg: { t: string } }[] };
    expect(snap.dht).toBeNull();
    expect(snap.notices.map((n) => n.msg.t)).toEqual(['dissolved', 'dissolved', 'dissolved']);
  });
});

describe('manager: restore', () => {
  it('a new core on the snapshot has the same peers, DHT and counter, says so in one line, and serves at once', () => {
    const m = ready();
    const status = m.status();
    const old = m.core.dht!;
    const effects = m.restart();
    expect(kinds(effects)).toEqual(['print']);
    expect((effects[0] as { text: string }).text).toBe('manager: restored 4 peers and a DHT of 3 (ready) from state.jsonl');
    expect(m.status()).toEqual(status);
    expect(m.core.dht).toEqual(old);
    // Every command works: a query from the Free peer, a teardown by the leader, the DHT counter goes on.
    const free = [1, 2, 3, 4].find((i) => !old.members.includes(`peer${i}`))!;
    expect(m.as(free, 'query-dht', [`peer${free}`]).code).toBe('SUCCESS');
    expect(m.as(1, 'teardown-dht').code).toBe('SUCCESS');
    expect(m.as(1, 'teardown-complete').code).toBe('SUCCESS');
    expect(m.as(2, 'setup-dht', ['peer2', '3', '1950']).dht).toBe(2);
  });

  it('a wait restarts with a fresh deadline: the manager gives up a wait-timeout after the restart, not before', () => {
    const m = new Manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    m.as(1, 'setup-dht', ['peer1', '3', '1950']);
    const effects = m.restart(1000 + WAIT + 1); // after the old deadline
    expect((effects[0] as { text: string }).text).toBe('manager: restored 3 peers and a DHT of 3 (building) from state.jsonl; waiting for dht-complete from peer1 again, for 60 s; sending 2 unacknowledged notices again');
    expect(m.core.dht!.deadline).toBe(m.now + WAIT);
    expect(m.core.onTimeout(m.now + WAIT - 1).some((e) => e.kind === 'send')).toBe(false);
    expect(m.as(1, 'dht-complete').code).toBe('SUCCESS');
    expect(m.core.dht!.phase).toBe('ready');
  });

  it('a request applied just before the crash, its answer lost, gets the same answer when retransmitted', () => {
    const m = ready();
    // register peer5: persisted, then killed before the answer was sent.
    const first = m.send(5, 'register', ['peer5', '127.0.0.1', '6010', '6011'], 500).res;
    m.restart();
    const again = m.send(5, 'register', ['peer5', '127.0.0.1', '6010', '6011'], 500);
    expect(again.res).toEqual(first);
    expect(again.effects.some((e) => e.kind === 'note' && e.verdict === 'duplicate')).toBe(true);
    // A fresh register of the same name from elsewhere is refused, as before the crash.
    expect(m.send(6, 'register', ['peer5', '127.0.0.1', '6012', '6013'], 501).res.reason).toBe('DUPLICATE_NAME');
    // deregister, killed before its answer: the retransmission gets SUCCESS again, not NOT_REGISTERED.
    const bye = m.send(5, 'deregister', ['peer5'], 502).res;
    expect(bye.code).toBe('SUCCESS');
    m.restart();
    expect(m.send(5, 'deregister', ['peer5'], 502).res).toEqual(bye);
    // The leader's teardown-dht, likewise: applied once (the manager waits for teardown-complete).
    const td = m.send(1, 'teardown-dht', ['peer1'], 900).res;
    m.restart();
    expect(m.send(1, 'teardown-dht', ['peer1'], 900).res).toEqual(td);
    expect(m.core.dht!.phase).toBe('tearing-down');
  });

  it('dissolved notices not acknowledged before the crash are sent again after it', () => {
    const m = new Manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    m.as(1, 'setup-dht', ['peer1', '3', '1950']);
    m.as(1, 'dht-abort'); // dissolved to the two other members, unacknowledged
    const effects = m.restart();
    expect((effects[0] as { text: string }).text).toBe('manager: restored 3 peers and no DHT from state.jsonl; sending 2 unacknowledged notices again');
    const sent = effects.filter((e): e is Extract<ManagerEffect, { kind: 'send' }> => e.kind === 'send');
    expect(sent.map((e) => e.msg.t)).toEqual(['dissolved', 'dissolved']);
    expect(sent.map((e) => (e.msg as MessageOf<'dissolved'>).dht)).toEqual([1, 1]);
  });

  it('a restarted manager numbers its notices above every notice of its previous life (the peers\' replay windows refuse lower ids)', () => {
    const m = new Manager();
    for (let i = 1; i <= 4; i++) m.register(i);
    const before = m.send(1, 'setup-dht', ['peer1', '3', '1950']).effects
      .filter((e): e is Extract<ManagerEffect, { kind: 'send' }> => e.kind === 'send' && e.msg.t === 'dht-notice').map((e) => e.msg.rid);
    expect(before).toHaveLength(2);
    m.as(1, 'dht-complete');
    m.restart(); // the same seeds: without the saved id the new life would number from the same start
    const free = [1, 2, 3, 4].find((i) => !m.core.dht!.members.includes(`peer${i}`))!;
    const after = m.send(free, 'join-dht', [`peer${free}`]).effects
      .filter((e): e is Extract<ManagerEffect, { kind: 'send' }> => e.kind === 'send' && e.msg.t === 'join-notice').map((e) => e.msg.rid);
    expect(after).toHaveLength(1);
    expect(after[0]!).toBeGreaterThan(Math.max(...before));
  });

  it('each peer\'s token and highest request id are saved and restored: its next command is taken', () => {
    const m = new Manager();
    for (let i = 1; i <= 3; i++) m.register(i);
    const token = m.core.peers.get('peer1')!.token;
    m.as(1, 'setup-dht', ['peer1', '3', '1950']); // a change made by peer1: its entry is saved again
    const lastRid = m.core.peers.get('peer1')!.lastRid;
    m.restart();
    const back = m.core.peers.get('peer1')!;
    expect(back.token).toBe(token);
    expect(back.lastRid).toBe(lastRid);
    expect(back.state).toBe('Leader');
    expect(m.as(1, 'dht-complete').code).toBe('SUCCESS');
  });

  it('an invalid snapshot is refused in one line, exit 1, and the core keeps nothing of it', () => {
    const m = ready();
    const good = JSON.parse(m.saved!) as Record<string, unknown> & { peers: Record<string, unknown>[]; dht: Record<string, unknown> };
    const bad: [string, unknown][] = [
      ['not a state snapshot (version 1): / Expected object', 42],
      ['not a state snapshot (version 1): /v Expected', { ...good, v: 2 }],
      ['DHT member', { ...good, peers: good.peers.filter((p) => p['name'] !== good.dht['leader']) }],
      ['is used by both', { ...good, peers: good.peers.map((p, i) => (i === 1 ? { ...p, mport: good.peers[0]!['mport'] } : p)) }],
      ['is listed twice', { ...good, peers: [...good.peers, good.peers[0]] }],
      ['above the counter', { ...good, dhtCount: 0 }],
      ['invariant broken: an initiator is set exactly in leaving/joining', { ...good, dht: { ...good.dht, initiator: 'peer2' } }],
      ['invariant broken: the leader', { ...good, dht: { ...good.dht, leader: 'peer4' } }],
      ['is not a valid res', { ...good, answers: [{ to: addr(1), res: { t: 'res', rid: 1 } }] }],
    ];
    for (const [why, state] of bad) {
      const core = newCore();
      const effects = core.handle(0, { kind: 'restored', state, source: 'state.jsonl' });
      expect(kinds(effects), why).toEqual(['print', 'exit']);
      expect((effects[0] as { text: string }).text).toMatch(/^manager: cannot restore the state from state\.jsonl: /);
      expect((effects[0] as { text: string }).text).toContain(why);
      expect((effects[1] as { code: number }).code).toBe(1);
      expect(core.peers.size).toBe(0);
      expect(core.dht).toBeNull();
    }
  });
});

describe('manager: a change holds what changed, not the whole table', () => {
  it('registering the 50th peer persists one entry; the DHT and counter ride along', () => {
    const m = new Manager();
    for (let i = 1; i <= 50; i++) m.register(i);
    const last = JSON.parse(m.changes.at(-1)!) as Change;
    expect(Object.keys(last.peers)).toEqual(['peer50']);
    expect(last.answers).toHaveLength(1);
    expect(last.dht).toBeNull();
    expect(m.as(50, 'deregister', ['peer50']).code).toBe('SUCCESS');
    expect((JSON.parse(m.changes.at(-1)!) as Change).peers).toEqual({ peer50: null });
    expect(m.mirror.size).toBe(49);
  });

  it('the mirror keeps one answer per registered address and the most recent departed ones, up to a bound', () => {
    const mirror = new Mirror();
    const res = (rid: number, cmd: string): Res => ({ t: 'res', rid, cmd, code: 'SUCCESS', text: 'ok' });
    const change = (peers: Change['peers'], answers: Change['answers']): Change => ({ v: SNAPSHOT_VERSION, peers, dht: null, dhtCount: 0, answers, notices: [] });
    const entry = (i: number) => ({ name: `peer${i}`, ip: '127.0.0.1', mport: addr(i).port, pport: addr(i).port + 1 });
    for (let i = 1; i <= DEPARTED_ANSWERS + 10; i++) {
      expect(mirror.apply(change({ [`peer${i}`]: entry(i) }, [{ to: addr(i), res: res(1, 'register') }])).ok).toBe(true);
      expect(mirror.apply(change({ [`peer${i}`]: null }, [{ to: addr(i), res: res(2, 'deregister') }])).ok).toBe(true);
    }
    expect(mirror.apply(change({ peer0: entry(0) }, [{ to: addr(0), res: res(1, 'register') }])).ok).toBe(true);
    const snap = mirror.snapshot();
    expect(snap.peers.map((p) => p.name)).toEqual(['peer0']);
    expect(snap.answers).toHaveLength(DEPARTED_ANSWERS + 1);
    expect(snap.answers.at(-1)).toEqual({ to: addr(0), res: res(1, 'register') });
    expect(snap.answers[0]!.to).toEqual(addr(11));
    expect(mirror.apply({ v: SNAPSHOT_VERSION, peers: {} }).ok).toBe(false);
  });
});
