// The per-datagram trace line of SPEC §5: direction, peer name, address, message.
import type { Message } from '../protocol/messages.js';
import { describe, isBulk } from '../protocol/describe.js';
import type { Addr } from '../reliable/index.js';
import type { TraceMode } from './usage.js';

/** Whether a datagram gets its own trace line; in summary mode the cores summarise bulk traffic. */
export function traced(mode: TraceMode, msg: Message): boolean {
  return mode === 'full' || (mode === 'summary' && !isBulk(msg));
}

export function traceLine(direction: 'sent' | 'received', name: string | undefined, addr: Addr, msg: Message, attempt = 1, note?: 'duplicate' | 'ignored'): string {
  const arrow = direction === 'sent' ? '→' : '←';
  const retry = attempt > 1 ? ` [try ${attempt}]` : '';
  const mark = note === undefined ? '' : ` [${note}]`;
  return `${arrow} ${name ?? '?'} ${addr.ip}:${addr.port} ${describe(msg)}${retry}${mark}`;
}
