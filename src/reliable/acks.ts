// Delayed, coalesced acknowledgements. An ack waits until the datagrams already received are
// handled (delay 0: the shell flushes after its current I/O burst), so the acks for a burst of
// store batches travel in one datagram; without this, half the datagrams of a store stream are
// acks. A datagram's worth of ids goes at once.
import type { MessageOf } from '../protocol/messages.js';
import { MAX_ACKS_PER_DATAGRAM } from '../protocol/limits.js';
import { addrKey, type Addr } from './outbox.js';

export interface AckOut<V> { via: V; to: Addr; msg: MessageOf<'ack'> }

export class AckBatcher<V extends string> {
  private readonly pending = new Map<string, { via: V; to: Addr; rids: number[] }>();
  private due = 0;

  constructor(private readonly delayMs: number) {}

  /** Queue an ack; returns a full ack datagram to send now, if this one filled it. */
  add(now: number, via: V, to: Addr, rid: number): AckOut<V> | null {
    const key = `${via}${addrKey(to)}`;
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size === 0) this.due = now + this.delayMs;
      p = { via, to, rids: [] };
      this.pending.set(key, p);
    }
    p.rids.push(rid);
    if (p.rids.length < MAX_ACKS_PER_DATAGRAM) return null;
    this.pending.delete(key);
    return toAck(p);
  }

  /** When the waiting acks must go, if any wait. */
  deadline(): number | undefined {
    return this.pending.size > 0 ? this.due : undefined;
  }

  /** Every waiting ack, as datagrams to send now (if they are due). */
  flush(now: number): AckOut<V>[] {
    if (this.pending.size === 0 || now < this.due) return [];
    const out = [...this.pending.values()].map(toAck);
    this.pending.clear();
    return out;
  }
}

function toAck<V>(p: { via: V; to: Addr; rids: number[] }): AckOut<V> {
  const [rid, ...more] = p.rids as [number, ...number[]];
  return { via: p.via, to: p.to, msg: more.length > 0 ? { t: 'ack', rid, more } : { t: 'ack', rid } };
}
