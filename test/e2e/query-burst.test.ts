// A script's burst of queries on real processes: 300 query-dht lines (and a typo among them)
// arrive at once on a Free peer's stdin, as `cat queries.txt | dht-peer …` would give them. They
// run up to --queries-in-flight at once, yet the person reads what one-at-a-time would print:
// each query's lines together, in the order typed, every record exactly as in the file, every
// absent id "not found", and the typo's error where the typo was; and the queries started
// together share datagrams, so the querier counts fewer datagrams than messages.
import { afterAll, describe, expect, it } from 'vitest';
import { System, ask, parseCounts } from '../../src/scenario/system.js';
import { COLUMNS, eventIdOf } from '../../src/data/record.js';
import { DATA_DIR, records } from '../helpers/data.js';

const YEAR = 1950;
const N = 3;
const QUERIES = 300;
let system: System | null = null;

afterAll(async () => {
  if (!system) return;
  system.killAll();
  await Promise.all(system.all().map((p) => p.exited));
});

/** A field as the peer prints it: control characters escaped (src/peer/query.ts). */
function shown(field: string): string {
  return field.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

describe('a burst of queries typed at once', () => {
  it('prints every answer whole, right and in the order typed', async () => {
    const sys = await System.start({ dataDir: DATA_DIR, trace: 'off', echo: false, peerArgs: ['--queries-in-flight', '16'] });
    system = sys;
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4']);
    const setup = await ask(sys.peer('peer1'), `setup-dht peer1 ${N} ${YEAR}`, /^dht-complete: SUCCESS/, 60_000);
    const ring = parseCounts(setup).map((c) => c.name);
    const free = [...sys.peers.keys()].find((n) => !ring.includes(n))!;
    const all = records(YEAR);
    const byId = new Map(all.map((r) => [eventIdOf(r), r]));

    const lines: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const id = i % 3 === 2 ? 90_000_000 + i : eventIdOf(all[(i * 37) % all.length]!);
      lines.push(`query-dht ${free} ${id}`);
      expected.push(byId.has(id) ? `found ${id}` : `missing ${id}`);
      if (i === 150) {
        lines.push('qurey-dht typo');
        expected.push('typo');
      }
    }
    const peer = sys.peer(free);
    peer.mark();
    peer.send(lines.join('\n'));
    // A person may ask what it is doing meanwhile: answered at once, with the queries in flight.
    peer.send('status');
    expect(await peer.waitFor(/^queries: \d+ in flight/)).toMatch(/^queries: ([2-9]|1[0-6]) in flight, \d+ console lines waiting$/);
    const out: string[] = [];
    for (let i = 0; i < QUERIES; i++) out.push(...(await peer.waitForLines(/^query-dht: (answered in |no answer)/, 60_000)));

    // Read the output back as the person would: one entry per query, checking each record's fields.
    const got: string[] = [];
    let fields: string[] = [];
    for (const l of out) {
      const missing = /^Storm event (\d+) not found in the DHT\.$/.exec(l);
      if (missing) got.push(`missing ${missing[1]}`);
      else if (/^unknown command 'qurey-dht'/.test(l)) got.push('typo');
      else if (/^id-seq: /.test(l) && fields.length > 0) {
        const id = Number(fields[0]!.replace(/^event_id: /, ''));
        const record = byId.get(id);
        expect(fields, `the record of ${id}`).toEqual(COLUMNS.map((c, k) => `${c}: ${shown(record?.[k] ?? '?')}`));
        got.push(`found ${id}`);
        fields = [];
      } else if (/^[a-z_]+: /.test(l) && !/^(query-dht|id-seq|status|queries|process): /.test(l)) fields.push(l);
    }
    expect(got).toEqual(expected);

    // The queries started together shared datagrams (PROTOCOL §2.6): the querier's `status`
    // counts more messages than datagrams, both ways (the manager's answers came packed too).
    peer.send('status');
    const traffic = /sent (\d+) datagrams .*received (\d+) \(.*; messages (\d+) sent, (\d+) received;/.exec(await peer.waitFor(/^process: /));
    expect(traffic, 'the process line counts datagrams and messages').not.toBeNull();
    const [sentDatagrams, receivedDatagrams, sentMessages, receivedMessages] = traffic!.slice(1).map(Number) as [number, number, number, number];
    expect(sentMessages).toBeGreaterThan(QUERIES); // at least a request to the manager per query
    expect(sentDatagrams).toBeLessThan(sentMessages);
    expect(receivedDatagrams).toBeLessThan(receivedMessages);
  }, 180_000);
});
