// The time-space diagram as one self-contained HTML page: inline SVG, a few lines of plain
// JavaScript for the command filter, no external URL, so it can be mailed or attached to a bug.
// Time runs down; one lifeline per process; an arrow per message; bulk traffic in bands.
import type { Merged, Node } from './merge.js';
import { layout, type Band, type Flow, type Item, type Layout } from './layout.js';
import { eventText } from './label.js';

const ROW = 22;
const TOP = 16;
const COL = 180;
/** Left margin: the column where messages from processes without a log come from. */
const LEFT = 170;
const STRANGER_X = 60;
const LABEL_CHARS = 46;

export function htmlPage(m: Merged, title = 'ringdht time-space diagram'): string {
  const lay = layout(m);
  const width = LEFT + m.procs.length * COL + 260;
  const height = TOP + (lay.rows + 1) * ROW;
  const body = [
    ...m.procs.map((p, i) => `<line class="life" data-proc="${esc(p.name)}" x1="${x(i)}" y1="0" x2="${x(i)}" y2="${height}"/>`),
    ...lay.bands.map((b) => band(m, b)),
    ...lay.items.map((it) => item(m, lay, it)),
  ];
  const heads = m.procs.map((p, i) => `<text class="head" x="${x(i)}" y="20" text-anchor="middle">${esc(p.name)}<title>${esc(`${p.name} on ${p.header.host}, pid ${p.header.pid}, started ${p.header.wall}, log ${p.file}`)}</title></text>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${STYLE}</style></head><body>
<header><h1>${esc(title)}</h1><p>${summary(m)}</p>
<label>Command: <select id="span"><option value="all">all messages</option>${commandOptions(m)}</select></label>
<label><input type="checkbox" id="prints" checked> printed lines</label>
<span class="legend"><b class="k-lost">✕ lost</b> <b class="k-orphan">⇢ sender without a log</b> <b class="k-dup">⋯ network duplicate</b> <b class="k-band">▭ bulk store/ack traffic</b></span></header>
<div class="heads"><svg width="${width}" height="28">${heads.join('')}</svg></div>
<svg id="diagram" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>
${body.join('\n')}
</svg>
<script>${SCRIPT}</script>
</body></html>
`;
}

const x = (proc: number): number => LEFT + proc * COL;
const y = (row: number): number => TOP + row * ROW + ROW / 2;

function item(m: Merged, lay: Layout, it: Item): string {
  const n = it.node;
  const at = `x="${x(n.proc) + 8}" y="${y(it.row) + 4}"`;
  const span = `data-s="${n.span}"`;
  if (it.kind === 'prints') {
    const more = it.lines.length > 1 ? ` (+${it.lines.length - 1} lines)` : '';
    return `<text class="print" ${span} ${at}>${esc(cut(it.lines[0]!, 60) + more)}<title>${esc(it.lines.join('\n'))}</title></text>`;
  }
  const e = n.e;
  switch (e.k) {
    case 'console':
      return `<g class="cmd" ${span}><line x1="${LEFT - 40}" x2="${x(m.procs.length - 1) + 40}" y1="${y(it.row)}" y2="${y(it.row)}"/>` +
        `<circle cx="${x(n.proc)}" cy="${y(it.row)}" r="5"/><text ${at}>› ${esc(e.text)}</text></g>`;
    case 'state': return `<g class="state" ${span}><rect x="${x(n.proc) - 4}" y="${y(it.row) - 4}" width="8" height="8"/><text ${at}>${esc(e.text)}</text></g>`;
    case 'full': return `<text class="lost" ${span} ${at}>${esc(e.text)}</text>`;
    case 'send': return send(m, lay, n);
    case 'recv': return n.from < 0 ? orphan(m, n, it.row) : arrow(m, lay, m.nodes[n.from]!, n);
    case 'timer': case 'print': return '';
  }
}

/** A send: its arrow is drawn with its receive; here only a send nobody received. */
function send(m: Merged, lay: Layout, n: Node): string {
  const e = n.e as Extract<Node['e'], { k: 'send' }>;
  if (n.to.length > 0) return '';
  const row = lay.rowOf.get(n.id)!;
  const owner = m.owners.get(e.dst);
  const title = `<title>${esc(eventText(m, n))}</title>`;
  const x1 = x(n.proc);
  if (owner === undefined) {
    // To an address without a log (a stranger, a querier outside the logs): a stub.
    return `<g class="msg unlogged" data-n="1" data-s="${n.span}"><line x1="${x1}" y1="${y(row)}" x2="${x1 + 50}" y2="${y(row)}" marker-end="url(#arrow)"/>` +
      `<text x="${x1 + 54}" y="${y(row) + 4}">${esc(cut(`${e.d} → ${e.dst}`, LABEL_CHARS))}</text>${title}</g>`;
  }
  const x2 = x1 + (x(owner) - x1) * 0.6;
  return `<g class="msg lost" data-n="1" data-s="${n.span}"><line x1="${x1}" y1="${y(row)}" x2="${x2}" y2="${y(row) + ROW * 0.6}"/>` +
    `<text x="${x2 - 5}" y="${y(row) + ROW * 0.6 + 5}">✕</text>${label(x1, y(row), x2, e.d)}${title}</g>`;
}

/** One delivered message: from its send to its receive. */
function arrow(m: Merged, lay: Layout, s: Node, r: Node): string {
  const e = r.e as Extract<Node['e'], { k: 'recv' }>;
  const y1 = y(lay.rowOf.get(s.id)!);
  const y2 = y(lay.rowOf.get(r.id)!);
  const x1 = x(s.proc);
  const x2 = x(r.proc);
  const cls = `msg${r.dup ? ' dup' : ''}${e.note ? ` ${e.note}` : ''}`;
  // A message to itself (a one-member ring) is a small loop to the right.
  const path = x1 === x2 ? `<path d="M${x1},${y1} C${x1 + 60},${y1} ${x2 + 60},${y2} ${x2},${y2}" marker-end="url(#arrow)"/>`
    : `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow)"/>`;
  const text = `${e.d}${r.dup ? ' (dup)' : ''}${e.note ? ` (${e.note})` : ''}`;
  return `<g class="${cls}" data-n="${r.dup ? 0 : 1}" data-s="${s.span}">${path}${label(x1, y1, x1 === x2 ? x1 + 60 : x2, text)}` +
    `<title>${esc(`${eventText(m, s)}\n${eventText(m, r)}`)}</title></g>`;
}

/** A receive whose sender kept no log: from the left margin. */
function orphan(m: Merged, n: Node, row: number): string {
  const e = n.e as Extract<Node['e'], { k: 'recv' }>;
  return `<g class="msg orphan" data-n="1" data-s="${n.span}"><line x1="${STRANGER_X}" y1="${y(row) - ROW}" x2="${x(n.proc)}" y2="${y(row)}" marker-end="url(#arrow)"/>` +
    `${label(STRANGER_X, y(row) - ROW, x(n.proc), `${e.d} from ${e.src}`)}<title>${esc(eventText(m, n))}</title></g>`;
}

function label(x1: number, y1: number, x2: number, text: string): string {
  const lx = x1 + (x2 - x1) * 0.5;
  return `<text class="label" x="${lx}" y="${y1 - 3}" text-anchor="middle">${esc(cut(text, LABEL_CHARS))}</text>`;
}

/** A run of bulk traffic: a shaded band with one counted arrow per flow. */
function band(m: Merged, b: Band): string {
  const procs = [...b.flows.values()].flatMap((f) => [f.src, f.dst]).filter((p) => p >= 0);
  const lo = Math.min(...procs, m.procs.length - 1);
  const hi = Math.max(...procs, 0);
  const top = TOP + b.row * ROW;
  const out = [`<g class="band" data-s="${b.span}"><rect x="${Math.min(x(lo), x(hi)) - 30}" y="${top + 2}" width="${Math.abs(x(hi) - x(lo)) + 60}" height="${b.rows * ROW - 4}" rx="6"/>`];
  [...b.flows.values()].forEach((f, i) => out.push(flowLine(m, f, b.row + 1 + i)));
  const total = [...b.flows.values()].reduce((a, f) => a + f.sent + f.unmatched, 0);
  out.push(`<text class="band-title" x="${Math.min(x(lo), x(hi)) - 24}" y="${top + 15}">bulk traffic: ${total} messages</text></g>`);
  return out.join('');
}

function flowLine(m: Merged, f: Flow, row: number): string {
  const x1 = f.src >= 0 ? x(f.src) : STRANGER_X;
  const x2 = f.dst >= 0 ? x(f.dst) : x1 + 50;
  const extra = [f.lost ? `${f.lost} lost` : '', f.dups ? `${f.dups} duplicated` : '', f.unmatched ? `${f.unmatched} from unlogged senders` : '']
    .filter(Boolean).join(', ');
  const n = f.sent + f.unmatched;
  const text = `${f.type} ×${n}${extra ? ` (${extra})` : ''}`;
  const who = `${f.src >= 0 ? m.procs[f.src]!.name : 'no log'} → ${f.dst >= 0 ? m.procs[f.dst]!.name : 'no log'}`;
  return `<g class="flow" data-n="${n}"><line x1="${x1}" y1="${y(row)}" x2="${x2}" y2="${y(row)}" marker-end="url(#arrow)"/>` +
    `${label(x1, y(row) + 2, x2, text)}<title>${esc(`${who}: ${text}`)}</title></g>`;
}

function summary(m: Merged): string {
  const s = m.stats;
  const shift = s.maxShiftMs > 1 ? `; clocks disagreed by up to ${Math.round(s.maxShiftMs)} ms and were aligned by the messages` : '';
  return esc(`${m.procs.length} processes, ${s.events} events; ${s.sends} messages sent, ${s.matched} received, ${s.lost} lost, ` +
    `${s.toUnlogged} sent to addresses without a log, ${s.unmatched} received from senders without a log, ${s.duplicates} network duplicates${shift}.`);
}

function commandOptions(m: Merged): string {
  return m.order.map((id) => m.nodes[id]!).filter((n) => n.e.k === 'console')
    .map((n) => `<option value="${n.id}">${esc(`${m.procs[n.proc]!.name}: ${(n.e as { text: string }).text}`)}</option>`).join('');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font: 13px system-ui, sans-serif; margin: 0; }
header { padding: 8px 16px; background: #f6f6f6; border-bottom: 1px solid #ddd; }
h1 { font-size: 16px; margin: 0 0 4px; } header label { margin-right: 16px; }
.legend b { font-weight: normal; margin-right: 12px; }
.heads { position: sticky; top: 0; background: #fffe; border-bottom: 1px solid #ddd; }
.head { font-weight: bold; }
svg text { font-size: 11px; }
.life { stroke: #999; stroke-width: 1.5; }
.msg line, .msg path { stroke: #2a5db0; stroke-width: 1.2; fill: none; }
svg marker path { fill: #555; }
.label { fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.msg.dup line, .msg.dup path, .k-dup { stroke: #7a4fb5; color: #7a4fb5; stroke-dasharray: 2 3; }
.msg.duplicate line { stroke: #888; }
.msg.ignored line { stroke: #b07a2a; }
.msg.lost line, .k-lost, .lost { stroke: #c0392b; color: #c0392b; fill: #c0392b; stroke-dasharray: 5 3; }
.msg.orphan line, .k-orphan { stroke: #d98a00; color: #d98a00; stroke-dasharray: 5 3; }
.msg.unlogged line { stroke: #888; stroke-dasharray: 3 3; }
.band rect { fill: #eaf2e3; stroke: #9bbf85; } .k-band { color: #5a8a3c; }
.band-title { fill: #5a8a3c; font-style: italic; }
.flow line { stroke: #5a8a3c; stroke-width: 3; }
.cmd line { stroke: #e0b000; stroke-dasharray: 6 4; } .cmd circle { fill: #e0b000; } .cmd text { font-weight: bold; }
.state rect { fill: #2a8a8a; } .state text { fill: #2a8a8a; font-style: italic; }
.print { fill: #777; }
`;

const SCRIPT = `
(function () {
  var sel = document.getElementById('span'), prints = document.getElementById('prints');
  function apply() {
    var v = sel.value, show = prints.checked;
    document.querySelectorAll('[data-s]').forEach(function (el) {
      var hide = (v !== 'all' && el.getAttribute('data-s') !== v) || (!show && el.classList.contains('print'));
      el.style.display = hide ? 'none' : '';
    });
  }
  sel.addEventListener('change', apply);
  prints.addEventListener('change', apply);
})();
`;
