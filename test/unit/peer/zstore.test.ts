// Compressed store batches at a member (peer/store.ts, protocol/zframe.ts): the batch's node
// keeps the records of a good one; a node between passes one on as it came, never inflating it;
// a frame that does not inflate to the records its header promises is refused whole (one line,
// not acknowledged, nothing stored), so its sender's stream fails instead of losing records.
import { describe, it, expect } from 'vitest';
import { eventIdOfLine, toLine } from '../../../src/data/line.js';
import { nodeOf, positionOf } from '../../../src/data/hash.js';
import { generateSynthetic } from '../../../src/data/synthetic.js';
import { deflateFrame } from '../../../src/protocol/zframe.js';
import type { PeerEffect } from '../../../src/peer/core.js';
import { P1, P3, fixture, fromPeer, prints, snapshot } from './fixtures.js';

const all = generateSynthetic(1996, 400, 3).map(toLine);
// The member is node 1 of 3 with s = 7.
const mine = all.filter((l) => nodeOf(positionOf(eventIdOfLine(l), 7), 3) === 1);
const theirs = all.filter((l) => nodeOf(positionOf(eventIdOfLine(l), 7), 3) === 2);
const sends = (effects: PeerEffect[]) => effects.flatMap((e) => (e.kind === 'send' ? [e] : []));

function zbatch(to: number, lines: string[], tamper: { z?: number; n?: number; recs?: string } = {}) {
  const d = deflateFrame(lines.join('\n'));
  return { t: 'store', epoch: 11, to, recs: d.body, z: d.z, n: lines.length, ...tamper };
}

describe('peer: compressed store batches', () => {
  it('the batch\'s node keeps its records and acknowledges', () => {
    const fx = fixture('member');
    const effects = fromPeer(fx.core, P1, zbatch(1, mine), 1);
    expect(fx.core.table.count).toBe(mine.length);
    expect(sends(fx.core.onTimeout(1)).some((e) => e.msg.t === 'ack')).toBe(true);
    expect(prints(effects)).toEqual([]);
  });

  it('a node between passes the batch on as it came, compressed', () => {
    const fx = fixture('member');
    const batch = zbatch(2, theirs);
    const out = sends(fromPeer(fx.core, P1, batch, 1)).filter((e) => e.msg.t === 'store');
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toEqual({ ip: P3.ip, port: P3.port });
    expect(out[0]!.msg).toMatchObject({ t: 'store', to: 2, recs: batch.recs, z: batch.z, n: batch.n });
    expect(fx.core.table.count).toBe(0);
  });

  it('a node between refuses a batch whose header claims more records than its size can hold, unread', () => {
    const fx = fixture('member');
    fx.core.onTimeout(1);
    const before = snapshot(fx.core);
    const effects = fromPeer(fx.core, P1, zbatch(2, theirs, { n: 500_000, z: 524_288 }), 2);
    expect(prints(effects).join('\n')).toMatch(/^ignored store from .*: a compressed frame of 524288 bytes cannot hold 500000 records$/);
    expect(sends(effects).filter((e) => e.msg.t === 'store')).toEqual([]);
    expect(snapshot(fx.core)).toBe(before);
  });

  const bad: [string, (l: string[]) => ReturnType<typeof zbatch>, RegExp][] = [
    ['a declared size smaller than the frame', (l) => zbatch(1, l, { z: deflateFrame(l.join('\n')).z - 10 }), /inflates beyond its declared/],
    ['a declared size larger than the frame', (l) => zbatch(1, l, { z: deflateFrame(l.join('\n')).z + 10 }), /not its declared/],
    ['another number of records than n', (l) => zbatch(1, l, { n: l.length + 1 }), /records, not its declared/],
    ['a body that is not deflate', (l) => zbatch(1, l, { recs: 'not deflate at all' }), /does not inflate|not its declared/],
    ['inflated text that is not record lines', () => ({ ...zbatch(1, ['x']), ...(({ body, z }) => ({ recs: body, z, n: 1 }))(deflateFrame('hello, not a record')) }), /not record lines/],
  ];
  for (const [name, make, why] of bad) {
    it(`refuses ${name}: one line, nothing stored, not acknowledged`, () => {
      const fx = fixture('member');
      fx.core.onTimeout(1);
      const before = snapshot(fx.core);
      const effects = fromPeer(fx.core, P1, make(mine), 2);
      expect(prints(effects).join('\n')).toMatch(why);
      expect(prints(effects).join('\n')).toMatch(/^ignored store from/);
      expect(snapshot(fx.core)).toBe(before);
      expect(fx.core.table.count).toBe(0);
      expect(sends(fx.core.onTimeout(2)).filter((e) => e.msg.t === 'ack')).toEqual([]);
    });
  }
});
