// Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open: one
// process track per lifeline, a tiny slice per event, and a flow (`ph: s` at the send, `ph: f`
// at the receive) per delivered message. Times are the merged estimate (merge.ts), so every
// arrow points forward even when the hosts' clocks disagree.
import type { Merged } from './merge.js';
import { eventText, hostName } from './label.js';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: string;
  args?: Record<string, unknown>;
}

/** A slice must have a length for a flow to attach to it: one microsecond. */
const SLICE_US = 1;

export function perfettoTrace(m: Merged): string {
  const events: TraceEvent[] = [];
  m.procs.forEach((p, i) => {
    events.push({ name: 'process_name', ph: 'M', pid: i + 1, tid: 1, args: { name: hostName(p.name) } });
    events.push({ name: 'process_sort_index', ph: 'M', pid: i + 1, tid: 1, args: { sort_index: i } });
  });
  const t0 = m.order.length > 0 ? m.nodes[m.order[0]!]!.time : 0;
  const us = (ms: number): number => Math.round((ms - t0) * 1000);
  let flow = 0;
  for (const id of m.order) {
    const n = m.nodes[id]!;
    const e = n.e;
    const cat = e.k === 'send' || e.k === 'recv' ? `${e.k},${e.type}` : e.k;
    const name = e.k === 'send' || e.k === 'recv' ? `${e.k} ${e.type}` : e.k === 'console' ? `> ${e.text}` : e.k;
    events.push({ name, cat, ph: 'X', pid: n.proc + 1, tid: 1, ts: us(n.time), dur: SLICE_US, args: { event: eventText(m, n), localMs: e.t } });
    if (n.from < 0) continue;
    const s = m.nodes[n.from]!;
    flow += 1;
    const type = e.k === 'recv' ? e.type : 'message';
    events.push({ name: type, cat: 'message', ph: 's', id: flow, pid: s.proc + 1, tid: 1, ts: us(s.time) });
    events.push({ name: type, cat: 'message', ph: 'f', bp: 'e', id: flow, pid: n.proc + 1, tid: 1, ts: us(n.time) });
  }
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}
