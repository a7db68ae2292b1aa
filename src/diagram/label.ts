// Words for events, shared by the three writers: what happened, and with whom.
import type { LogEvent } from '../eventlog/format.js';
import type { Merged, Node } from './merge.js';

/** A process's name as a single word (ShiViz and the HTML ids need one). */
export function hostName(name: string): string {
  return name.replace(/\s+/g, '_') || '_';
}

/** The process at the other end of a message, or its address when no log belongs to it. */
export function peerOf(m: Merged, e: LogEvent): string {
  if (e.k !== 'send' && e.k !== 'recv') return '';
  const addr = e.k === 'send' ? e.dst : e.src;
  const owner = m.owners.get(addr);
  return owner !== undefined ? m.procs[owner]!.name : `${addr || '?'} (no log)`;
}

/** One line saying what the event was: `send store 19 records (rid 5) → peer3`. */
export function eventText(m: Merged, n: Node): string {
  const e = n.e;
  switch (e.k) {
    case 'send': return `send ${e.d}${e.try ? ` [try ${e.try}]` : ''} → ${peerOf(m, e)}${n.to.length === 0 ? ' (never received)' : ''}`;
    case 'recv': return `recv ${e.d}${e.note ? ` (${e.note})` : ''} ← ${peerOf(m, e)}${n.dup ? ' (network duplicate)' : ''}`;
    case 'console': return `console > ${e.text}`;
    case 'print': return `print ${e.text}`;
    case 'state': return `state ${e.text}`;
    case 'timer': return 'timer';
    case 'full': return `log full: ${e.text}`;
  }
}

/** Bulk traffic, folded into bands in the HTML: store batches and their acknowledgements. */
export function isBulk(e: LogEvent): boolean {
  return (e.k === 'send' || e.k === 'recv') && (e.type === 'store' || e.type === 'ack');
}
