// Placement of copies (replicas.ts): node k's records are also kept at k+1 … k+r−1 (mod n). The
// rule itself, and the whole store lap on real StoreStreams: the leader routes a year's records,
// every node relays or keeps each batch as it arrives, and at the end each node holds exactly its
// own records in its table and exactly the records of the r − 1 nodes before it as copies.
import { describe, expect, it } from 'vitest';
import { holdsReplicaOf, replicaHolders, replicationOf } from '../../../src/peer/replicas.js';
import { StoreStream } from '../../../src/peer/store.js';
import { LocalTable } from '../../../src/peer/table.js';
import { PeerContext } from '../../../src/peer/context.js';
import type { Ring } from '../../../src/peer/state.js';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { DEFAULT_RETRY } from '../../../src/reliable/index.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import { nodeOf, positionOf, tableSize } from '../../../src/data/hash.js';
import { toLine, eventIdOfLine } from '../../../src/data/line.js';
import { smallDataset } from '../../../src/sim/scenario.js';

describe('the placement rule', () => {
  it('copies go to the next r − 1 nodes, wrapping around the ring', () => {
    expect(replicaHolders({ n: 5, r: 3 }, 1)).toEqual([2, 3]);
    expect(replicaHolders({ n: 5, r: 3 }, 4)).toEqual([0, 1]);
    expect(replicaHolders({ n: 5, r: 1 }, 2)).toEqual([]);
    expect(holdsReplicaOf({ n: 5, r: 3 }, 0, 4)).toBe(true);
    expect(holdsReplicaOf({ n: 5, r: 3 }, 0, 3)).toBe(true);
    expect(holdsReplicaOf({ n: 5, r: 3 }, 0, 2)).toBe(false);
    expect(holdsReplicaOf({ n: 5, r: 3 }, 0, 0)).toBe(false);
  });

  it('a ring smaller than r (after a leave) keeps a copy on every other node, never on the owner', () => {
    expect(replicationOf({ n: 2, r: 4 })).toBe(2);
    expect(replicaHolders({ n: 2, r: 4 }, 1)).toEqual([0]);
    expect(replicaHolders({ n: 1, r: 3 }, 0)).toEqual([]);
  });
});

const SEC = 'unitSecretCCCCCCCCCCCC';

function context(): PeerContext {
  let x = 7;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  return new PeerContext({ ip: '127.0.0.1', port: 4000 }, { retry: DEFAULT_RETRY, maxPayload: 1400, window: 4, queryTimeoutMs: 5000 }, { random, secret: seededSecret(random) });
}

/** One lap of the store stream over n nodes: returns each node's table and the counts store-end carried. */
function lap(lines: string[], n: number, r: number): { tables: LocalTable[]; counts: number[]; replicas: number[] | undefined } {
  const s = tableSize(lines.length);
  const peers = Array.from({ length: n }, (_, i) => ({ name: `peer${i + 1}`, ip: '127.0.0.1', port: 5000 + i }));
  const rings: Ring[] = peers.map((_, id) => ({ id, n, peers, year: 1996, s, epoch: 1, dht: 1, sec: SEC, r }));
  const tables = peers.map(() => new LocalTable());
  const ctxs = peers.map(() => context());
  const streams = peers.map(() => new StoreStream(ctxs[0]!, 1));
  streams[0]!.route(rings[0]!, tables[0]!, lines);
  streams[0]!.end([tables[0]!.count], r > 1 ? [tables[0]!.replicaCount] : undefined);
  // Bounded: every pass moves at least one message one hop; a lap is n hops of every batch.
  for (let node = 0, guard = 0; guard < 1_000_000; guard++) {
    const ctx = ctxs[node]!;
    ctx.begin(0);
    streams[node]!.pump(ctx, rings[node]!);
    const sent = ctx.out.flatMap((e) => (e.kind === 'send' ? [e.msg] : []));
    if (sent.length === 0) break;
    const next = (node + 1) % n;
    for (const msg of sent) {
      streams[node]!.acked();
      if (msg.t === 'store') {
        streams[next]!.receive(rings[next]!, tables[next]!, msg as MessageOf<'store'>);
      } else if (msg.t === 'store-end') {
        const end = msg as MessageOf<'store-end'>;
        if (next === 0) return { tables, counts: end.counts, replicas: end.replicas };
        streams[next]!.end([...end.counts, tables[next]!.count], r > 1 ? [...(end.replicas ?? []), tables[next]!.replicaCount] : undefined);
      }
    }
    // A node forwards only what it received: give the turn to the next node once this one is drained.
    node = sent.some((m) => m.t === 'store-end') ? next : streams[node]!.queued > 0 ? node : next;
  }
  throw new Error('store-end never came back');
}

describe('one store lap with copies', () => {
  const { records } = smallDataset(1996, 600, 3);
  const lines = records.map(toLine);
  const s = tableSize(lines.length);

  for (const [n, r] of [[4, 2], [5, 3], [3, 1]] as const) {
    it(`n = ${n}, r = ${r}: each node holds its own records and copies of the ${r - 1} before it, and store-end says so`, () => {
      const { tables, counts, replicas } = lap(lines, n, r);
      const ownerOf = (l: string) => nodeOf(positionOf(eventIdOfLine(l), s), n);
      const idsOf = (k: number) => lines.filter((l) => ownerOf(l) === k).map(eventIdOfLine).sort();
      for (let i = 0; i < n; i++) {
        const t = tables[i]!;
        expect([...t.entries()].map(([, l]) => eventIdOfLine(l)).sort()).toEqual(idsOf(i));
        const copied = [...t.replicas().keys()].sort();
        expect(copied).toEqual(Array.from({ length: r - 1 }, (_, j) => (i - 1 - j + n) % n).sort());
        for (const k of copied) expect([...t.replicas().get(k)!.entries()].map(([, l]) => eventIdOfLine(l)).sort()).toEqual(idsOf(k));
      }
      expect(counts).toEqual(tables.map((t) => t.count));
      if (r === 1) expect(replicas).toBeUndefined();
      else {
        expect(replicas).toEqual(tables.map((t) => t.replicaCount));
        expect(replicas!.reduce((a, b) => a + b, 0)).toBe((r - 1) * lines.length);
      }
    });
  }
});
