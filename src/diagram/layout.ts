// Where things go in the HTML diagram: one row per drawn event, in the merged order, except that
// a run of bulk traffic (store batches and acks) becomes one band listing its flows with counts,
// consecutive printed lines of a process share a row, and timer firings take no row at all.
import type { Merged, Node } from './merge.js';
import { isBulk } from './label.js';

/** One arrow's worth of bulk traffic in a band: `peer1 → peer3 store ×12`. */
export interface Flow {
  src: number;
  /** -1: an address without a log. */
  dst: number;
  type: string;
  sent: number;
  lost: number;
  dups: number;
  /** Receives whose sender kept no log (src is then -1). */
  unmatched: number;
}

export interface Band {
  row: number;
  rows: number;
  span: number;
  flows: Map<string, Flow>;
}

export type Item =
  | { kind: 'event'; row: number; node: Node }
  | { kind: 'prints'; row: number; node: Node; lines: string[] };

export interface Layout {
  rows: number;
  /** Row of every drawn event, by node id. */
  rowOf: Map<number, number>;
  items: Item[];
  bands: Band[];
}

/** Most lines kept for one row of printed text (the rest are counted). */
const MAX_PRINT_LINES = 30;

export function layout(m: Merged): Layout {
  const out: Layout = { rows: 0, rowOf: new Map(), items: [], bands: [] };
  const bandOfSend = new Map<number, Band>();
  let band: Band | null = null;
  let prints: Extract<Item, { kind: 'prints' }> | null = null;
  const close = (): void => {
    if (band) out.rows += (band.rows = 1 + band.flows.size);
    band = null;
  };
  for (const id of m.order) {
    const n = m.nodes[id]!;
    if (n.e.k === 'timer') continue;
    if (isBulk(n.e)) {
      // A delivered batch or ack is drawn in its send's band: its receive needs no band, nor ends one.
      if (n.e.k === 'recv' && n.from >= 0 && !n.dup) continue;
      if (n.e.k === 'recv' && n.dup) {
        addBulk(m, n, band, bandOfSend);
        continue;
      }
      prints = null;
      if (!band) out.bands.push((band = { row: out.rows, rows: 0, span: n.span, flows: new Map() }));
      addBulk(m, n, band, bandOfSend);
      continue;
    }
    close();
    if (n.e.k === 'print' && prints && prints.node.proc === n.proc) {
      if (prints.lines.length < MAX_PRINT_LINES) prints.lines.push(n.e.text);
      out.rowOf.set(id, prints.row);
      continue;
    }
    const row = out.rows++;
    out.rowOf.set(id, row);
    if (n.e.k === 'print') out.items.push((prints = { kind: 'prints', row, node: n, lines: [n.e.text] }));
    else {
      prints = null;
      out.items.push({ kind: 'event', row, node: n });
    }
  }
  close();
  return out;
}

/** A bulk send counts in its own band; its receive (or duplicate) is credited there too. */
function addBulk(m: Merged, n: Node, band: Band | null, bandOfSend: Map<number, Band>): void {
  const e = n.e;
  if (e.k === 'send' && band) {
    bandOfSend.set(n.id, band);
    const f = flow(band, n.proc, m.owners.get(e.dst) ?? -1, e.type);
    f.sent += 1;
    if (n.to.length === 0) f.lost += 1;
  } else if (e.k === 'recv') {
    if (n.from < 0 && band) flow(band, -1, n.proc, e.type).unmatched += 1;
    else if (n.dup) {
      const s = m.nodes[n.from]!;
      const home = bandOfSend.get(s.id);
      // Keyed as its send was, so that it joins that flow's line rather than adding one.
      if (home && s.e.k === 'send') flow(home, s.proc, m.owners.get(s.e.dst) ?? -1, e.type).dups += 1;
    }
  }
}

function flow(band: Band, src: number, dst: number, type: string): Flow {
  const key = `${src}>${dst}:${type}`;
  let f = band.flows.get(key);
  if (!f) band.flows.set(key, (f = { src, dst, type, sent: 0, lost: 0, dups: 0, unmatched: 0 }));
  return f;
}
