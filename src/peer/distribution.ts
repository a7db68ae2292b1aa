// The leader's part of a setup or rebuild (SPEC §3.1 step 2 and 3): spread the year's records
// over the ring through its own store stream, then print what each node holds when store-end
// comes back. Shared by the setup, admit and rebuild operations. With replication (r > 1) the
// copies travel in the same stream and each node's line shows its copies beside its own records.
import { tableSize } from '../data/hash.js';
import type { LineDataset } from '../data/record.js';
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { sentence } from './context.js';
import type { Host } from './operation.js';
import { peerAt, plural, type Ring } from './state.js';
import { StoreStream } from './store.js';
import { replicationOf } from './replicas.js';

export interface Distributing {
  stream: StoreStream | null;
}

export function distribute(host: Host, op: Distributing, records: readonly string[], purpose: 'setup' | 'rebuild'): void {
  const { ring } = host.member();
  assert(ring.id === 0, 'only the leader distributes');
  assert(op.stream === null, 'one distribution per operation');
  host.table.clear();
  const stream = new StoreStream(host.ctx, ring.epoch);
  op.stream = stream;
  stream.route(ring, host.table, records);
  // The leader's own records come from the file, all at once: its table is complete now.
  host.member().complete = true;
  const r = replicationOf(ring);
  assert(stream.kept + stream.replicated + stream.queued === records.length * r, 'the leader keeps or forwards every record and copy');
  const copies = r > 1 ? ` (+${plural(stream.replicated, 'replica')}); each record also on the next ${plural(r - 1, 'node')} (r = ${r})` : '';
  host.ctx.print(`${purpose}: storing ${plural(records.length, 'record')} on ${plural(ring.n, 'node')}; ${stream.kept} stay here${copies}`);
  stream.end([host.table.count], r > 1 ? [host.table.replicaCount] : undefined);
  stream.pump(host.ctx, ring);
}

/**
 * store-end came back around: print each node's count and the total; with r > 1 each node's
 * copies beside its count, and their total (r − 1 times the records) on the last line.
 */
export function printCounts(host: Host, ring: Ring, counts: readonly number[], purpose: 'setup' | 'rebuild' | 'repair', replicas?: readonly number[]): void {
  const r = replicationOf(ring);
  let total = 0;
  let copies = 0;
  for (let i = 0; i < ring.n; i++) {
    const c = counts[i];
    const k = replicas?.[i];
    const beside = r > 1 ? ` (+${k === undefined ? '? replicas' : plural(k, 'replica')})` : '';
    host.ctx.print(`node ${i} ${peerAt(ring, i).name}: ${c === undefined ? '? records' : plural(c, 'record')}${beside}`);
    total += c ?? 0;
    copies += k ?? 0;
  }
  const also = r > 1 ? ` (+${plural(copies, 'replica')}, r = ${r})` : '';
  host.ctx.print(`${purpose}: ${plural(total, 'record')} stored on ${plural(ring.n, 'node')}${also}`);
}

/** Why a rebuild cannot use what was loaded, or its records. */
export function rebuildRecords(ring: Ring, data: LineDataset | string): string | readonly string[] {
  if (typeof data === 'string') return data;
  if (tableSize(data.lines.length) !== ring.s) {
    return `the ${ring.year} file now has ${data.lines.length} records, not the ${ring.s} table size the ring was built with`;
  }
  return data.lines;
}

/** A rebuild cannot finish: tell the peer that asked for it, so it aborts at once. */
export function rebuildFailed(host: Host, notify: Tuple, why: string): void {
  host.ctx.print(`rebuild: ${why}`);
  if (host.state.kind !== 'member') return; // no ring, no secret: the initiator's abort or the manager's timeout ends it
  host.ctx.sendPeer(notify, { t: 'rebuild-done', sec: host.state.ring.sec, leader: host.self().name, ok: false, counts: [], text: sentence(why) }, null);
}

/** The rebuild is done: tell the peer that asked (not owned: it outlives the operation). */
export function rebuildDone(host: Host, notify: Tuple, counts: number[], replicas?: number[]): void {
  const { ring } = host.member();
  printCounts(host, ring, counts, 'rebuild', replicas);
  host.ctx.sendPeer(notify, { t: 'rebuild-done', sec: ring.sec, leader: host.self().name, ok: true, counts, text: `rebuilt on ${plural(ring.n, 'node')}` }, null);
}
