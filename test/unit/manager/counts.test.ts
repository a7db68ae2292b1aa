// The per-node counts the manager learns from dht-complete and dht-rebuilt (the optional `counts`
// of a `cmd`, docs/PROTOCOL.md §3.2): kept when there is one per member, forgotten otherwise,
// printed by `status`.
import { describe, expect, it } from 'vitest';
import { ManagerCore, type ManagerEffect } from '../../../src/manager/core.js';
import { DEFAULT_RETRY } from '../../../src/reliable/index.js';
import { seededRandom } from '../../../src/sim/rng.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import type { MessageOf } from '../../../src/protocol/messages.js';

type Res = MessageOf<'res'>;
const addr = (i: number) => ({ ip: '127.0.0.1', port: 6000 + 2 * i });

class Manager {
  readonly core = new ManagerCore({ waitTimeoutMs: 60_000, retry: DEFAULT_RETRY }, { random: seededRandom(5), secret: seededSecret(seededRandom(105)) });
  private rid = 1;
  /** The token each peer got at register, on every later command (as a real peer sends it). */
  private readonly tokens = new Map<number, string>();

  as(i: number, cmd: string, args: string[], counts?: number[]): Res {
    const tok = cmd === 'register' ? undefined : this.tokens.get(i);
    const msg = { t: 'cmd' as const, rid: this.rid++, cmd, args, ...(counts ? { counts } : {}), ...(tok !== undefined ? { tok } : {}) };
    const effects = this.core.handle(1000, { kind: 'datagram', from: addr(i), msg });
    const res = effects.find((e): e is Extract<ManagerEffect, { kind: 'send' }> => e.kind === 'send' && e.msg.t === 'res')!.msg as Res;
    if (cmd === 'register' && res.code === 'SUCCESS' && res.tok) this.tokens.set(i, res.tok);
    return res;
  }

  status(): string[] {
    return this.core.handle(1000, { kind: 'line', text: 'status' }).map((e) => (e as { text: string }).text);
  }
}

/** peer1…peer4 registered; peer1 leads a DHT of 3 (building). */
function building(): { m: Manager; members: string[] } {
  const m = new Manager();
  for (let i = 1; i <= 4; i++) expect(m.as(i, 'register', [`peer${i}`, '127.0.0.1', String(addr(i).port), String(addr(i).port + 1)]).code).toBe('SUCCESS');
  expect(m.as(1, 'setup-dht', ['peer1', '3', '1950']).code).toBe('SUCCESS');
  return { m, members: m.core.dht!.members };
}

const num = (name: string): number => Number(name.slice(4));

describe('manager: per-node counts', () => {
  it('dht-complete with one count per member: kept, shown by status', () => {
    const { m, members } = building();
    const res = m.as(1, 'dht-complete', ['peer1'], [72, 75, 76]);
    expect(res.code).toBe('SUCCESS');
    expect(res.text).toBe('the DHT of 3 led by peer1 is ready');
    expect(m.core.dht!.counts).toEqual([72, 75, 76]);
    const status = m.status();
    expect(status[1]).toBe(`  records: ${members[0]} 72, ${members[1]} 75, ${members[2]} 76 (223 in all)`);
    expect(status[2]).toBe('peers: 4 registered');
  });

  it('dht-complete without counts (a typed one, an older peer): none known, status as before', () => {
    const { m } = building();
    expect(m.as(1, 'dht-complete', ['peer1']).code).toBe('SUCCESS');
    expect(m.core.dht!.counts).toBeUndefined();
    expect(m.status()[1]).toBe('peers: 4 registered');
  });

  it('counts of the wrong length are ignored, and the response says so; the request still succeeds', () => {
    const { m } = building();
    const res = m.as(1, 'dht-complete', ['peer1'], [1, 2]);
    expect(res.code).toBe('SUCCESS');
    expect(res.text).toMatch(/; its 2 counts for 3 members are ignored$/);
    expect(m.core.dht!.counts).toBeUndefined();
  });

  it('dht-rebuilt after a leave carries the new counts; one without them forgets the old ones', () => {
    const { m, members } = building();
    m.as(1, 'dht-complete', ['peer1'], [72, 75, 76]);
    const leaver = members[2]!;
    expect(m.as(num(leaver), 'leave-dht', [leaver]).code).toBe('SUCCESS');
    expect(m.core.dht!.counts, 'kept while the leave is pending').toEqual([72, 75, 76]);
    expect(m.as(num(leaver), 'dht-rebuilt', [leaver, 'peer1'], [111, 112]).code).toBe('SUCCESS');
    expect(m.core.dht!.members).toEqual(['peer1', members[1]]);
    expect(m.core.dht!.counts).toEqual([111, 112]);
    // A join reported without counts: the old ones no longer fit the ring and are dropped.
    const free = [1, 2, 3, 4].map((i) => `peer${i}`).find((n) => !m.core.dht!.members.includes(n))!;
    expect(m.as(num(free), 'join-dht', [free]).code).toBe('SUCCESS');
    expect(m.as(num(free), 'dht-rebuilt', [free, 'peer1']).code).toBe('SUCCESS');
    expect(m.core.dht!.members).toHaveLength(3);
    expect(m.core.dht!.counts).toBeUndefined();
  });
});
