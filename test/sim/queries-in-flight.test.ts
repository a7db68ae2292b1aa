// Queries run together (--queries-in-flight, src/peer/query-pool.ts), in the simulation under
// loss, duplication and reordering: a Free peer is given a burst of query-dht lines with a typo
// and another command among them. Several queries are in flight at once, yet what the person
// reads is the same as one at a time: each query's lines together, in the order typed, every
// answer right, and the other lines where they were typed. The queries started together share
// datagrams (several messages per datagram, PROTOCOL §2.6), exercised here under the same faults.
import { describe, it, expect } from 'vitest';
import { World } from '../../src/sim/world.js';
import { toLine } from '../../src/data/line.js';
import { eventIdOf } from '../../src/data/record.js';
import { smallDataset, LOSSY_RETRY } from '../../src/sim/scenario.js';

const data = smallDataset(1996, 800, 5);
const ids = data.records.map(eventIdOf);
const ABSENT = 90_000_000;

function world(seed: number): World {
  const w = new World({
    seed,
    faults: { loss: 0.2, dup: 0.05, reorder: 0.1 },
    manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY },
    peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 120_000, queriesInFlight: 8 },
    datasets: new Map([[1996, { year: 1996, lines: data.records.map(toLine), source: 'sim' }]]),
  });
  for (let i = 1; i <= 6; i++) w.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i);
  return w;
}

const printed = (lines: string[], re: RegExp) => () => lines.some((l) => re.test(l));

/** The burst's lines as the person reads them: one entry per query (its event id and answer) or other line. */
function readBack(lines: string[]): string[] {
  const out: string[] = [];
  let id: string | null = null;
  for (const l of lines) {
    const found = /^event_id: (\d+)$/.exec(l);
    const missing = /^Storm event (\d+) not found in the DHT\.$/.exec(l);
    if (found) id = `found ${found[1]}`;
    else if (missing) id = `missing ${missing[1]}`;
    else if (/^query-dht: answered in /.test(l)) {
      out.push(id ?? 'answer without a record line');
      id = null;
    } else if (!/^(query-dht: SUCCESS — ask |query-dht: the manager says|query-dht: .*asking the manager again|[a-z_]+: |id-seq: )/.test(l)) out.push(l);
  }
  return out;
}

describe('queries in flight together', () => {
  it('print each answer whole, right and in the order typed, with other lines in place', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const w = world(seed);
      for (let i = 1; i <= 6; i++) {
        w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
        expect(w.runUntil(printed(w.peer(`peer${i}`).prints, /^register: SUCCESS/))).toBe(true);
      }
      w.type('peer1', 'setup-dht peer1 5 1996');
      expect(w.runUntil(printed(w.peer('peer1').prints, /^dht-complete: SUCCESS/))).toBe(true);
      const free = [1, 2, 3, 4, 5, 6].map((i) => `peer${i}`).find((n) => w.peer(n).core.ring === null)!;
      const peer = w.peer(free);
      const from = peer.prints.length;
      const expected: string[] = [];
      for (let i = 0; i < 30; i++) {
        const id = i % 3 === 2 ? ABSENT + i : ids[(i * 7919 + seed) % ids.length]!;
        w.type(free, `query-dht ${free} ${id}`);
        expected.push(`${id >= ABSENT ? 'missing' : 'found'} ${id}`);
        if (i === 12) {
          w.type(free, 'qurey-dht oops');
          expected.push("unknown command 'qurey-dht'");
        }
      }
      let most = 0;
      const done = () => peer.prints.slice(from).filter((l) => /^query-dht: (answered in|no answer)/.test(l)).length === 30;
      expect(w.runUntil(() => {
        const op = peer.core.op;
        if (op?.kind === 'query') most = Math.max(most, op.size);
        return done();
      }, 600_000)).toBe(true);
      expect(most, `seed ${seed}: queries at once`).toBeGreaterThan(1);
      // Queries started in one turn share datagrams to the manager (protocol/pack.ts).
      const t = peer.interp.traffic;
      expect(t.sentMessages, `seed ${seed}: messages against datagrams`).toBeGreaterThan(t.sent);
      const got = readBack(peer.prints.slice(from));
      expect(got.map((l) => l.replace(/ —.*|: try.*/, '')), `seed ${seed}`).toEqual(expected.map((l) => l.replace(/ —.*|: try.*/, '')));
    }
  });
});
