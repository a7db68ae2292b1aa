// The manager's live view (`dht-manager --http PORT`): an Observer of the manager's interpreter
// (runtime/observer.ts) that serves a page (page.ts) over HTTP (server.ts). Every message the
// manager sends or receives becomes a short record; records are batched and sent at most every
// FLUSH_MS, at most MAX_BATCH a batch (the rest only counted), so a store flood or a fuzzer cannot
// overwhelm a browser; a new snapshot of the state is sent when it differs from the last one.
import { performance } from 'node:perf_hooks';
import type { ManagerState } from '../manager/state.js';
import type { Message } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import type { Verdict } from '../runtime/effects.js';
import type { Observer } from '../runtime/observer.js';
import { LiveServer, type LiveServerOptions } from './server.js';
import { messageView, snapshotOf, type MessageView, type Snapshot } from './snapshot.js';

/**
 * Failure detection's traffic (four `alive`s a second per peer, probes of suspects) is counted but
 * not listed: it would push every message a person is watching out of the list.
 */
const LIVENESS: ReadonlySet<string> = new Set(['alive', 'probe', 'ping-req', 'ping', 'pong']);

/** How often batched messages and a changed snapshot go out. */
export const FLUSH_MS = 100;
/** Messages sent per batch; more within one batch are counted as `dropped`. */
export const MAX_BATCH = 50;
/** Messages replayed to a page that connects. */
export const RECENT = 100;

/** The manager as the live view reads it: its state, and the name of an address. */
export type LiveState = ManagerState & { nameOf(addr: Addr): string | undefined };

export interface LiveViewOptions extends LiveServerOptions {
  /** The clock the interpreter's `now` comes from (default performance.now). */
  now?: () => number;
}

export class LiveView implements Observer {
  readonly server: LiveServer;
  private source: LiveState | null = null;
  private manager: Addr | null = null;
  private readonly start: number;
  private batch: MessageView[] = [];
  private droppedInBatch = 0;
  private readonly recentRing: MessageView[] = [];
  private lastSnapshot = '';
  private flushTimer: NodeJS.Timeout | null = null;
  /** Totals since start: every message, and those not shown because a batch was full. */
  sent = 0;
  received = 0;
  notShown = 0;

  constructor(options: LiveViewOptions = {}) {
    this.start = options.now ? options.now() : performance.now();
    this.server = new LiveServer({ snapshot: () => this.snapshot(), recent: () => this.recentRing }, options);
  }

  /** The manager whose state is shown (the shell makes it after the options are parsed). */
  attach(state: LiveState): void {
    this.source = state;
    this.changed();
  }

  snapshot(): Snapshot {
    return this.source ? snapshotOf(this.source, this.manager) : { manager: this.manager, peers: [], peersOmitted: 0, dht: null };
  }

  // ---- Observer ----

  send(now: number, to: Addr, msg: Message, _datagrams: readonly Uint8Array[], attempt: number): void {
    this.sent += 1;
    if (LIVENESS.has(msg.t)) return;
    this.message(messageView(now - this.start, 'out', this.source?.nameOf(to), to, msg, attempt));
  }

  receive(now: number, from: Addr, msg: Message, _bytes: Uint8Array, note?: Verdict): void {
    this.received += 1;
    if (LIVENESS.has(msg.t)) return;
    this.message(messageView(now - this.start, 'in', this.source?.nameOf(from), from, msg, 1, note));
  }

  console(): void { this.changed(); }
  print(): void { this.changed(); }
  state(): void { this.changed(); }
  timer(): void { this.changed(); }

  bound(_now: number, sockets: Record<string, Addr>): void {
    this.manager = sockets['manager'] ?? Object.values(sockets)[0] ?? null;
    this.changed();
  }

  /** Stop the timer and the server (tests; the manager just exits). */
  close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    return this.server.close();
  }

  // ---- batching ----

  private message(m: MessageView): void {
    if (this.batch.length < MAX_BATCH) this.batch.push(m);
    else {
      this.droppedInBatch += 1;
      this.notShown += 1;
    }
    this.changed();
  }

  /** Something may have changed: flush within FLUSH_MS (one timer at a time). */
  private changed(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Send the batched messages and, if the state differs from the last one sent, the snapshot. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.batch.length > 0 || this.droppedInBatch > 0) {
      const messages = this.batch;
      this.recentRing.push(...messages);
      if (this.recentRing.length > RECENT) this.recentRing.splice(0, this.recentRing.length - RECENT);
      this.server.broadcast('messages', { messages, dropped: this.droppedInBatch, sent: this.sent, received: this.received });
      this.batch = [];
      this.droppedInBatch = 0;
    }
    if (this.server.clientCount === 0) {
      this.lastSnapshot = '';
      return;
    }
    const snap = JSON.stringify(this.snapshot());
    if (snap === this.lastSnapshot) return;
    this.lastSnapshot = snap;
    this.server.broadcastJson('snapshot', snap);
  }
}
