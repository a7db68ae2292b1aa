// setup-dht at the leader (SPEC §3.1): load the year's file first (nothing is sent if it cannot
// be read), ask the manager, give every member its id (set-id), distribute the records from the
// data kept since the load, and tell the manager (dht-complete).
import { tableSize } from '../data/hash.js';
import type { LineDataset } from '../data/record.js';
import type { Tuple } from '../protocol/messages.js';
import { assert } from '../runtime/assert.js';
import { distribute, printCounts } from './distribution.js';
import { elapsed, type Host, type Res } from './operation.js';
import { plural } from './state.js';
import type { StoreStream } from './store.js';
import { rField } from './replicas.js';

export class SetupOp {
  readonly kind = 'setup';
  phase: 'loading' | 'requesting' | 'assigning' | 'distributing' | 'completing' = 'loading';
  /** The year's records, kept from the load until they are distributed. */
  private data: LineDataset | null = null;
  /** set-id requests not acknowledged yet. */
  private readonly setIds = new Set<number>();
  stream: StoreStream | null = null;
  startedAt = 0;

  constructor(private readonly args: string[], readonly year: number) {}

  start(host: Host): void {
    host.ctx.emit({ kind: 'load', year: this.year });
  }

  onLoaded(host: Host, data: LineDataset | string): void {
    assert(this.phase === 'loading', 'loaded while loading');
    if (typeof data === 'string') {
      host.ctx.print(`setup-dht: ${data} (nothing was sent)`);
      return host.finish(this);
    }
    this.data = data;
    this.phase = 'requesting';
    this.startedAt = host.ctx.now;
    host.request('setup-dht', this.args);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS') return host.finish(this);
    if (res.sec === undefined) return host.abort('setup-dht: the manager\'s answer carries no DHT secret');
    this.assign(host, res.peers ?? [], res.dht ?? 0, res.sec);
  }

  private assign(host: Host, peers: Tuple[], dht: number, sec: string): void {
    const data = this.data;
    assert(data !== null, 'setup data kept from the load');
    const s = tableSize(data.lines.length);
    // --replicas R, capped at the ring's size (a node never keeps a copy of its own records).
    const r = Math.max(1, Math.min(host.ctx.config.replicas ?? 1, peers.length));
    const ring = host.enterRing({ id: 0, n: peers.length, peers, year: this.year, s, epoch: host.ctx.newEpoch(), dht, sec, r }, null, `the DHT is being set up by ${host.self().name}`).ring;
    this.phase = 'assigning';
    const copies = r > 1 ? `; r = ${r} (each record on ${plural(r, 'node')})` : '';
    host.ctx.print(`setup: ${plural(data.lines.length, 'record')} of ${this.year} (${data.source}); s = ${s}${copies}; assigning ids to ${plural(peers.length - 1, 'peer')}`);
    for (let i = 1; i < peers.length; i++) {
      const to = peers[i];
      assert(to !== undefined, 'peers[i] below n');
      const msg = host.ctx.sendPeer(to, { t: 'set-id', sec, id: i, n: peers.length, peers, year: this.year, s, epoch: ring.epoch, dht, ...rField(ring) }, this);
      this.setIds.add(msg.rid);
    }
    if (this.setIds.size === 0) this.distribute(host);
  }

  onAcked(host: Host, rid: number): void {
    if (this.phase !== 'assigning' || !this.setIds.delete(rid) || this.setIds.size > 0) return;
    this.distribute(host);
  }

  private distribute(host: Host): void {
    const data = this.data;
    assert(data !== null, 'setup data kept until distributed');
    this.data = null;
    this.phase = 'distributing';
    distribute(host, this, data.lines, 'setup');
  }

  onDistributed(host: Host, counts: number[], replicas?: number[]): void {
    this.stream = null;
    printCounts(host, host.member().ring, counts, 'setup', replicas);
    this.phase = 'completing';
    host.request('dht-complete', [host.self().name], counts);
  }

  onCompleted(host: Host, res: Res): void {
    if (res.code === 'SUCCESS') host.ctx.print(`setup-dht: done in ${elapsed(host, this.startedAt)} ms (from the request to the manager's SUCCESS)`);
    host.finish(this);
  }

  onFailed(host: Host, why: string): void {
    host.abort(`setup-dht: ${why}`);
  }
}
