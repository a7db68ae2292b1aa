// Records with awkward fields (commas, quotes, a line break inside a quoted field) survive the
// trip: stored as CSV lines, split again at the answering node, and printed on one line each.
import { describe, it, expect } from 'vitest';
import { World } from '../../src/sim/world.js';
import { toLine } from '../../src/data/line.js';
import { smallDataset, LOSSY_RETRY } from '../../src/sim/scenario.js';
import type { StormRecord } from '../../src/data/record.js';

const AWKWARD: StormRecord = ['9999001', 'NEW YORK', '1996', 'May', 'Tornado "rope"', 'C', 'KINGS,\nQUEENS', '0', '0', '0', '0', '1.5M', '0', 'F1'];

describe('awkward records', () => {
  it('a record with a comma, quotes and a line break in its fields is found and printed intact, one line per field', () => {
    const { records } = smallDataset(1996, 300, 5);
    const all = [...records, AWKWARD];
    const w = new World({
      seed: 1, faults: { loss: 0, dup: 0, reorder: 0 },
      manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY },
      peer: { retry: LOSSY_RETRY, maxPayload: 1400, window: 16, queryTimeoutMs: 60_000 },
      datasets: new Map([[1996, { year: 1996, lines: all.map(toLine), source: 'sim' }]]),
    });
    for (let i = 1; i <= 4; i++) {
      w.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i);
      w.type(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
      expect(w.runUntil(() => w.peer(`peer${i}`).prints.some((l) => l.startsWith('register: SUCCESS')))).toBe(true);
    }
    w.type('peer1', 'setup-dht peer1 3 1996');
    expect(w.runUntil(() => w.peer('peer1').prints.some((l) => l.startsWith('dht-complete: SUCCESS')))).toBe(true);
    const asker = ['peer2', 'peer3', 'peer4'].find((p) => w.peer(p).core.ring === null)!;
    const out = w.peer(asker).prints;
    const from = out.length;
    w.type(asker, `query-dht ${asker} 9999001`);
    expect(w.runUntil(() => out.slice(from).some((l) => l.startsWith('query-dht: answered')))).toBe(true);
    const answer = out.slice(from);
    expect(answer).toContain('event_type: Tornado "rope"');
    expect(answer).toContain('cz_name: KINGS,\\nQUEENS');
    expect(answer).not.toContain('QUEENS');
    expect(answer.filter((l) => l.startsWith('damage_property: 1.5M'))).toHaveLength(1);
  });
});
