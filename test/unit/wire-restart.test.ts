// Two regressions found by the random simulation (seed 1256: a node printed 5 records fewer than
// the hash gives). (1) A full store batch did not fit one datagram once the DHT secret joined its
// header, so every batch went as two fragments. (2) A process started again on the same ports
// numbered its fragments from 1 again, so a receiver's stale partial message from its previous
// life could be completed by the new life's fragments: a corrupt but well-formed batch.
import { describe, expect, it } from 'vitest';
import { Wire } from '../../src/protocol/wire.js';
import { encode } from '../../src/protocol/codec.js';
import { Pipeline } from '../../src/peer/pipeline.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { toLine } from '../../src/data/line.js';
import type { MessageOf } from '../../src/protocol/messages.js';

const FROM = { ip: '127.0.0.1', port: 5001 };
const SEC = 'A'.repeat(44); // the longest secret the schema takes

describe('store batches and fragments', () => {
  it('a full store batch, with the longest header (rid, epoch and secret), is one datagram of at most 1,400 bytes', () => {
    const pipe = new Pipeline(1_000_000, 1400);
    for (const r of generateSynthetic(1996, 3000, 5)) pipe.push(1, toLine(r));
    pipe.pushEnd([0]);
    const batches = pipe.take().filter((o): o is Extract<typeof o, { t: 'store' }> => o.t === 'store');
    expect(batches.length).toBeGreaterThan(10);
    for (const b of batches) {
      const msg: MessageOf<'store'> = { t: 'store', rid: 999_999_999_999_999, epoch: 9_999_999_999, to: b.to, sec: SEC, recs: b.recs };
      expect(encode(msg).length).toBeLessThanOrEqual(1400);
      expect(new Wire(1400).datagrams(msg)).toHaveLength(1);
    }
  });

  it('a sender started again (fragment ids from another random start) never completes its previous life\'s partial message', () => {
    const big = (text: string): MessageOf<'rebuild-done'> => ({ t: 'rebuild-done', rid: 1, sec: SEC, leader: 'peer1', ok: false, counts: Array.from({ length: 200 }, (_, i) => i), text });
    const rx = new Wire(600);
    const oldLife = new Wire(600, 1_000);
    const stale = oldLife.datagrams(big('old life'));
    expect(stale.length).toBeGreaterThan(2);
    // Every piece but the first arrived; the first was lost, and the process died.
    for (const d of stale.slice(1)) expect(rx.receive(FROM, d, 0).ok).toBe('partial');
    // Numbered from the same start, the new life's first piece would complete the stale message:
    // a mixture of two messages. From another start it starts a partial of its own.
    const sameStart = new Wire(600, 1_000).datagrams(big('new life'));
    const mixed = new Wire(600);
    for (const d of stale.slice(1)) mixed.receive(FROM, d, 0);
    expect(mixed.receive(FROM, sameStart[0]!, 1).ok).not.toBe('partial'); // the bug this start prevents
    const fresh = new Wire(600, 987_654_321).datagrams(big('new life'));
    expect(rx.receive(FROM, fresh[0]!, 1).ok).toBe('partial');
    const rest = fresh.slice(1).map((d) => rx.receive(FROM, d, 1));
    const whole = rest.filter((r) => r.ok === true);
    expect(whole).toHaveLength(1);
    expect(whole[0]!.ok === true && whole[0]!.msg).toMatchObject({ t: 'rebuild-done', text: 'new life' });
  });
});
