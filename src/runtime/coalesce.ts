// The sends of one event-loop turn, queued per socket and destination and written as packs
// (protocol/pack.ts) when the turn ends: the interpreter's only buffer. Nothing waits longer than
// the turn (no timer: the shell flushes in the next immediate, after the datagrams already
// received are handled; the simulation after the events due at the same instant), each
// destination gets its messages in the order sent, and a datagram never exceeds the payload limit
// nor MAX_PACKED messages: a message that does not fit sends the queue before it at once.
import type { Addr } from '../reliable/index.js';
import { MAX_PACKED, pack } from '../protocol/pack.js';

interface Queue<S> { socket: S; to: Addr; parts: Buffer[]; bytes: number }

export class Coalescer<S extends string> {
  /** Insertion order: destinations are flushed in the order their first message was queued. */
  private readonly queues = new Map<string, Queue<S>>();

  /** `out(socket, to, datagram)`: one datagram leaves. */
  constructor(private readonly maxPayload: number, private readonly out: (socket: S, to: Addr, bytes: Buffer) => void) {}

  get pending(): boolean {
    return this.queues.size > 0;
  }

  /** Queue one message's encoding (a single datagram, packable) for the end of the turn. */
  add(socket: S, to: Addr, bytes: Buffer): void {
    const key = `${socket}${to.ip}:${to.port}`;
    const q = this.queues.get(key);
    if (!q) {
      this.queues.set(key, { socket, to, parts: [bytes], bytes: bytes.length });
      return;
    }
    if (q.parts.length >= MAX_PACKED || q.bytes + 1 + bytes.length > this.maxPayload) {
      this.out(socket, to, pack(q.parts));
      q.parts = [bytes];
      q.bytes = bytes.length;
      return;
    }
    q.parts.push(bytes);
    q.bytes += 1 + bytes.length;
  }

  /** Send what waits for one destination now: before a datagram that is never packed (order). */
  flushTo(socket: S, to: Addr): void {
    const key = `${socket}${to.ip}:${to.port}`;
    const q = this.queues.get(key);
    if (!q) return;
    this.queues.delete(key);
    this.out(socket, to, pack(q.parts));
  }

  /** The end of the turn: every queue leaves, one datagram per destination (or more, when full). */
  flush(): void {
    if (this.queues.size === 0) return;
    // A send from `out` cannot re-enter: the shell's transmit does not call back into the interpreter.
    for (const q of this.queues.values()) this.out(q.socket, q.to, pack(q.parts));
    this.queues.clear();
  }
}
