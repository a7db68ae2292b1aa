// The manager's answer cache: bounded in entries and bytes, O(1) amortised per request whatever
// the number of registered peers (at 4,096 it used to scan them all on every register, and so did
// the PORT_IN_USE check), and a retransmitted register or deregister still gets its first answer.
import { describe, expect, it } from 'vitest';
import { AnswerCache, MAX_ANSWER_CACHES, MEMBER_BYTES, PER_ADDRESS } from '../../../src/manager/answers.js';
import { BoundedCache } from '../../../src/manager/bounded.js';
import { ManagerCore } from '../../../src/manager/core.js';
import { DEFAULT_RETRY, requestKey, type Addr } from '../../../src/reliable/index.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import { seededRandom } from '../../../src/sim/rng.js';
import type { MessageOf } from '../../../src/protocol/messages.js';

type Res = MessageOf<'res'>;
const addr = (i: number): Addr => ({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 7000 });
const res = (cmd: string, rid: number, text = 'ok', code: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): Res =>
  code === 'SUCCESS' ? { t: 'res', rid, cmd, code, text } : { t: 'res', rid, cmd, code, reason: 'NOT_REGISTERED', text };
const key = (a: Addr, rid: number): string => requestKey(a.ip, a.port, rid);

describe('bounded cache', () => {
  it('keeps at most maxEntries and maxBytes, dropping the oldest', () => {
    const c = new BoundedCache<number>(3, 100);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i, 10);
    expect(c.size).toBe(3);
    expect(c.get('k9')).toBe(9);
    expect(c.get('k6')).toBeUndefined();
    c.set('big', 0, 95);
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(95);
    c.set('big', 1, 5); // replacing gives its bytes back
    expect(c.bytes).toBe(5);
    c.set('huge', 2, 1000); // alone over the byte bound: the newest stays
    expect(c.get('huge')).toBe(2);
    expect(c.size).toBe(1);
  });
});

describe('answer cache', () => {
  it('registering 3 × 4,096 addresses keeps 4,096 caches, within the byte bound, one eviction per register past the bound', () => {
    const cache = new AnswerCache();
    const n = 3 * MAX_ANSWER_CACHES;
    for (let i = 0; i < n; i++) {
      const a = addr(i);
      cache.remember(a, key(a, 1), res('register', 1, 'x'.repeat(200)));
      cache.remember(a, key(a, 2), res('query-dht', 2, 'y'.repeat(250)));
    }
    const held = cache.held();
    expect(held.caches).toBe(MAX_ANSWER_CACHES);
    expect(held.memberBytes).toBeLessThanOrEqual(MEMBER_BYTES);
    // Work: exactly one cache dropped per register past the bound, none scanned.
    expect(cache.evicted).toBe(n - MAX_ANSWER_CACHES);
    const last = addr(n - 1);
    expect(cache.get(last, key(last, 1))?.cmd).toBe('register');
  });

  it('large answers are bounded by bytes before entries', () => {
    const cache = new AnswerCache();
    const big = 'z'.repeat(280);
    const peers = Array.from({ length: 1000 }, (_, i) => ({ name: `peer${i}`, ip: '10.0.0.1', port: 1000 + i }));
    for (let i = 0; i < 200; i++) {
      const a = addr(i);
      cache.remember(a, key(a, 1), res('register', 1));
      for (let r = 2; r < PER_ADDRESS; r += 8) cache.remember(a, key(a, r), { ...res('setup-dht', r, big), peers } as Res);
    }
    expect(cache.held().memberBytes).toBeLessThanOrEqual(MEMBER_BYTES);
    expect(cache.held().caches).toBeLessThan(200);
  });

  it('a deregistered address loses its cache at once, but a retransmitted deregister gets the same SUCCESS', () => {
    const cache = new AnswerCache();
    const a = addr(1);
    cache.remember(a, key(a, 1), res('register', 1));
    expect(cache.held().caches).toBe(1);
    const bye = res('deregister', 2, 'bye');
    cache.remember(a, key(a, 2), bye);
    expect(cache.held()).toMatchObject({ caches: 0, memberBytes: 0 });
    expect(cache.get(a, key(a, 2))).toEqual(bye);
    // Strangers' flood cannot push it out: it is not in their shared cache.
    for (let i = 0; i < 10_000; i++) cache.remember(addr(100_000 + i), key(addr(100_000 + i), 1), res('deregister', 1, 'no', 'FAILURE'));
    expect(cache.get(a, key(a, 2))).toEqual(bye);
    expect(cache.held().othersBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});

describe('manager core: registration at scale', () => {
  it('5,000 peers register and deregister; retransmissions get their first answers; caches stay bounded', () => {
    const core = new ManagerCore({ waitTimeoutMs: 60_000, retry: DEFAULT_RETRY }, { random: seededRandom(1), secret: seededSecret(seededRandom(101)) });
    const n = 5000;
    const mport = (i: number): number => 10_000 + 2 * i;
    const send = (i: number, cmd: string, args: string[], rid: number): Res => {
      const from = { ip: '127.0.0.1', port: mport(i) };
      // As a real peer: the token its registration got on every later command.
      const tok = cmd === 'register' ? undefined : tokens.get(i);
      const out = core.handle(1000, { kind: 'datagram', from, msg: { t: 'cmd', rid, cmd, args, ...(tok !== undefined ? { tok } : {}) } });
      const sent = (out.find((e) => e.kind === 'send') as { msg: Res }).msg;
      if (cmd === 'register' && sent.code === 'SUCCESS' && sent.tok) tokens.set(i, sent.tok);
      return sent;
    };
    const tokens = new Map<number, string>();
    const reg = (i: number): string[] => [`p${i}`, '127.0.0.1', String(mport(i)), String(mport(i) + 1)];
    for (let i = 0; i < n; i++) expect(send(i, 'register', reg(i), 1).code).toBe('SUCCESS');
    // Retransmissions (seconds later: only the least recently answered of > 4,096 lose their cache).
    for (const i of [n - 1, n - 100, n - MAX_ANSWER_CACHES + 1]) expect(send(i, 'register', reg(i), 1).code).toBe('SUCCESS');
    for (let i = 0; i < n; i += 2) expect(send(i, 'deregister', [`p${i}`], 2).code).toBe('SUCCESS');
    expect(send(n - 2, 'deregister', [`p${n - 2}`], 2).code).toBe('SUCCESS'); // again: the same answer
    expect(send(n - 2, 'deregister', [`p${n - 2}`], 3).code).toBe('FAILURE'); // a new request: not registered
    expect(core.peers.size).toBe(n / 2);
    // The port and address indexes follow: a freed port is free again, a taken one is refused.
    expect(core.nameOf({ ip: '127.0.0.1', port: mport(1) + 1 })).toBe('p1');
    expect(core.nameOf({ ip: '127.0.0.1', port: mport(0) })).toBeUndefined();
    expect(send(0, 'register', ['again0', '127.0.0.1', String(mport(0)), String(mport(0) + 1)], 4).code).toBe('SUCCESS');
    const taken = send(2, 'register', ['again2', '127.0.0.1', String(mport(2)), String(mport(1))], 4);
    expect(taken.code === 'FAILURE' && taken.reason).toBe('PORT_IN_USE');
    expect(taken.text).toBe(`port ${mport(1)} is already used by p1`);
  });
});
