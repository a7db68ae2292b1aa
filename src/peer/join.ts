// join-dht by a Free peer (our design, SPEC §3.6), joiner side: after the manager's SUCCESS ask
// the leader to admit this peer (join); the ring renumbers with it (reset-id makes it a member),
// the leader rebuilds, and on rebuild-done the joiner tells the manager (dht-rebuilt).
import type { Addr } from '../reliable/index.js';
import { sameAddr } from '../reliable/index.js';
import type { MessageOf, Tuple } from '../protocol/messages.js';
import { elapsed, type Host, type Res } from './operation.js';
import { tupleOf } from './state.js';

export class JoinOp {
  readonly kind = 'join';
  phase: 'requesting' | 'admitting' | 'reporting' = 'requesting';
  leader: Tuple | null = null;
  /** The DHT the manager named: only its `dissolved` applies before this peer holds a ring. */
  dht: number | null = null;
  /** The DHT's secret, from the manager's answer: join, reset-id and rebuild-done carry it. */
  sec: string | null = null;

  constructor(private readonly args: string[], readonly startedAt: number) {}

  start(host: Host): void {
    host.request('join-dht', this.args);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS' || !res.peer || res.sec === undefined) return host.finish(this);
    this.leader = res.peer;
    this.dht = res.dht ?? 0;
    this.sec = res.sec;
    this.phase = 'admitting';
    host.ctx.remember([res.peer]);
    host.ctx.sendPeer(res.peer, { t: 'join', sec: res.sec, joiner: tupleOf(host.self()) }, this);
  }

  onRebuildDone(host: Host, from: Addr, m: MessageOf<'rebuild-done'>): string | null {
    if (this.phase !== 'admitting') return 'this peer is not waiting for a rebuild';
    const why = acceptRebuildDone(host, this.leader, from, m, 'join');
    if (why === null && m.ok) this.phase = 'reporting';
    return why;
  }

  onCompleted(host: Host, res: Res): void {
    if (res.code === 'SUCCESS') host.ctx.print(`join-dht: done in ${elapsed(host, this.startedAt)} ms (from the request to the manager's SUCCESS)`);
    host.finish(this);
  }

  onFailed(host: Host, why: string): void {
    host.abort(`join: ${why}`);
  }
}

/** rebuild-done at the peer that started a leave or join: report success, or abort. */
export function acceptRebuildDone(host: Host, expected: Tuple | null, from: Addr, m: MessageOf<'rebuild-done'>, what: 'leave' | 'join'): string | null {
  if (!expected || !sameAddr(expected, from)) return 'rebuild-done from a peer that is not the leader';
  if (!m.ok) {
    host.abort(`${what}-dht: the leader ${m.leader} could not rebuild: ${m.text}`);
    return null;
  }
  host.ctx.print(`${what}: ${m.leader} rebuilt the DHT (${m.counts.join(', ')} records)`);
  host.request('dht-rebuilt', [host.self().name, m.leader], m.counts);
  return null;
}
