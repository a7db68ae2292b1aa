// The manager's durable state (PROTOCOL §4.10), under the core: every change of the state is
// collected while an event is handled and goes out as one `persist` effect before the event's
// first send, so no answer reports a change a crash could lose; a restarted manager takes its
// last snapshot back before serving. Kept apart from core.ts, which holds the requests, the
// console, the transport and failure detection.
import type { MessageOf, Notice } from '../protocol/messages.js';
import { requestKey, type Addr, type Outbox, type RetryPolicy } from '../reliable/index.js';
import type { ManagerEffect } from './core.js';
import { AnswerCache } from './answers.js';
import { Liveness, type LivenessConfig } from './liveness.js';
import { WAITING_FOR } from './rules.js';
import { ManagerState, count } from './state.js';
import { SNAPSHOT_VERSION, describeState, dhtFields, entryFields, restoreSnapshot, type Change } from './snapshot.js';

export interface ManagerConfig {
  waitTimeoutMs: number;
  retry: RetryPolicy;
  /** Emit a `persist` change after every change of state (manager/snapshot.ts): --state FILE, and the simulation. */
  durable?: boolean;
  /** Detect dead peers (PROTOCOL §4.11): peers send `alive`, the manager probes the silent ones and declares deaths. */
  liveness?: LivenessConfig;
}

type Res = MessageOf<'res'>;

export abstract class DurableState extends ManagerState {
  protected readonly answers = new AnswerCache();
  protected out: ManagerEffect[] = [];
  protected dhtCount = 0;
  /** Time of the event being handled (the cores never read a clock). */
  protected now = 0;
  /** The state changed while handling this event: a `persist` goes out before the first send. */
  protected changed = false;
  /** Peers added, removed or (as senders) possibly changed by this event, and the answers it gave. */
  private readonly touched = new Set<string>();
  private kept: { to: Addr; res: Res }[] = [];
  /** Failure detection, when configured (liveness.ts). */
  readonly liveness: Liveness | null;

  constructor(protected readonly config: ManagerConfig, protected readonly outbox: Outbox<Notice, string>) {
    super();
    this.liveness = config.liveness ? new Liveness(config.liveness) : null;
  }

  protected abstract print(text: string): void;

  override addPeer(...args: Parameters<ManagerState['addPeer']>): ReturnType<ManagerState['addPeer']> {
    this.touched.add(args[0]);
    this.liveness?.watch(args[0], this.now);
    return super.addPeer(...args);
  }

  override removePeer(name: string): void {
    this.touched.add(name);
    this.liveness?.forget(name);
    super.removePeer(name);
  }

  protected changedBy(from: Addr, res: Res): void {
    this.changed = true;
    this.kept.push({ to: from, res });
    // The sender's entry may have changed in place (e.g. a request-id window): saved again.
    const sender = this.nameAt(from.ip, from.port);
    if (sender !== undefined) this.touched.add(sender);
  }

  /**
   * The change, placed before the first send of this event: no answer reports an unsaved change.
   * It holds what changed (manager/snapshot.ts), so its cost does not grow with the table.
   */
  protected persistIfChanged(): void {
    const changed = this.changed;
    this.changed = false;
    const touched = [...this.touched];
    this.touched.clear();
    const kept = this.kept;
    this.kept = [];
    if (!changed || !this.config.durable) return;
    const peers: Change['peers'] = {};
    for (const name of touched) {
      const entry = this.peers.get(name);
      peers[name] = entry ? entryFields(entry) : null;
    }
    const change: Change = {
      v: SNAPSHOT_VERSION,
      peers,
      dht: dhtFields(this.dht),
      dhtCount: this.dhtCount,
      rid: this.outbox.next,
      answers: kept.map((a) => ({ to: { ...a.to }, res: structuredClone(a.res) })),
      notices: this.outbox.waiting().map((p) => ({ to: { ...p.to }, tag: p.tag, msg: structuredClone(p.msg) })),
    };
    const at = this.out.findIndex((e) => e.kind === 'send');
    this.out.splice(at < 0 ? this.out.length : at, 0, { kind: 'persist', change });
  }

  /**
   * A restarted manager takes back its last snapshot before serving: any wait starts again with a
   * fresh deadline, unacknowledged notices are sent again, saved answers go back in the cache.
   * A snapshot that does not check out ends the process (exit 1): never serve a half state.
   */
  protected restore(state: unknown, source: string): void {
    let restored: ReturnType<typeof restoreSnapshot>;
    try {
      restored = restoreSnapshot(this, state, this.now + this.config.waitTimeoutMs);
      if (restored.ok) this.checkInvariants();
    } catch (err) {
      restored = { ok: false, why: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
    if (!restored.ok) {
      for (const name of [...this.peers.keys()]) this.removePeer(name);
      this.dht = null;
      this.print(`manager: cannot restore the state from ${source}: ${restored.why}`);
      this.out.push({ kind: 'exit', code: 1 });
      return;
    }
    this.touched.clear(); // restored, not changed: the file already holds it
    const r = restored.value;
    this.dhtCount = r.dhtCount;
    // Above every notice of the previous life: the peers' replay windows refuse lower ids.
    this.outbox.skipTo(r.rid);
    for (const a of r.answers) this.answers.remember(a.to, requestKey(a.to.ip, a.to.port, a.res.rid), a.res);
    const d = this.dht;
    const waiting = d?.deadline !== undefined ? `; waiting for ${WAITING_FOR[d.phase]} from ${this.waitingOn()} again, for ${Math.round(this.config.waitTimeoutMs / 1000)} s` : '';
    const notices = r.notices.length > 0 ? `; sending ${count(r.notices.length, 'unacknowledged notice')} again` : '';
    this.print(`manager: restored ${describeState(this)} from ${source}${waiting}${notices}`);
    for (const n of r.notices) {
      const msg = this.outbox.send(this.now, n.to, n.body, n.tag);
      this.out.push({ kind: 'send', to: n.to, msg, attempt: 1 });
    }
  }
}
