// The per-datagram trace line of SPEC §5: direction, peer name, address, message.
import type { Message } from '../protocol/messages.js';
import { describe, isBulk } from '../protocol/describe.js';
import type { Addr } from '../reliable/index.js';
import type { TraceMode } from './usage.js';

/** Whether a datagram gets its own trace line; in summary mode the cores summarise bulk traffic. */
export function traced(mode: TraceMode, msg: Message): boolean {
  return mode === 'full' || (mode === 'summary' && !isBulk(msg));
}

/** Said instead of a name for an address that is no registered peer (an outsider, a querier, a fuzzer). */
export const STRANGER = 'stranger';

/** Why a received datagram had no effect: a retransmission already handled, or refused by the core. */
export type TraceNote = 'duplicate' | 'ignored';

export function traceLine(direction: 'sent' | 'received', name: string | undefined, addr: Addr, msg: Message, attempt = 1,
  note?: TraceNote): string {
  const arrow = direction === 'sent' ? '→' : '←';
  const retry = attempt > 1 ? ` [try ${attempt}]` : '';
  const marked = note ? ` (${note})` : '';
  return `${arrow} ${name ?? STRANGER} ${addr.ip}:${addr.port} ${describe(msg)}${retry}${marked}`;
}
