// teardown-dht at the leader (SPEC §3.3): after the manager's SUCCESS, send teardown around the
// ring with `dissolve`, and when it comes back send teardown-complete. The passing on of a
// teardown at the other nodes is in member.ts; leave and admit send their own (without dissolve).
import type { Host, Res } from './operation.js';
import { elapsed } from './operation.js';
import { rightOf } from './state.js';

export class TeardownOp {
  readonly kind = 'teardown';
  phase: 'requesting' | 'tearing-down' | 'completing' = 'requesting';

  constructor(private readonly args: string[], readonly startedAt: number) {}

  start(host: Host): void {
    host.request('teardown-dht', this.args);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS') return host.finish(this);
    if (host.state.kind !== 'member') {
      host.ctx.print('teardown-dht: this peer holds no ring; send teardown-complete by hand if the manager waits');
      return host.finish(this);
    }
    this.phase = 'tearing-down';
    sendTeardown(host, true, this, `the DHT is being torn down by ${host.self().name}`);
  }

  onTeardownReturned(host: Host): void {
    this.phase = 'completing';
    host.request('teardown-complete', [host.self().name]);
  }

  onCompleted(host: Host, res: Res): void {
    if (res.code === 'SUCCESS') host.ctx.print(`teardown-dht: done in ${elapsed(host, this.startedAt)} ms (from the request to the manager's SUCCESS)`);
    host.finish(this);
  }

  onFailed(host: Host, why: string): void {
    host.ctx.print(`teardown-dht: ${why}; the manager will give up waiting and free the peers`);
    host.finish(this);
  }
}

/** Start a teardown around the ring from this node, owned by the operation that waits for it. */
export function sendTeardown(host: Host, dissolve: boolean, owner: object, changing: string): void {
  const member = host.member();
  const { ring } = member;
  // From now on this node's table is on its way out: it answers no query "not found".
  member.complete = false;
  member.changing = changing;
  host.ctx.sendPeer(rightOf(ring), { t: 'teardown', sec: ring.sec, origin: host.self().name, dissolve, epoch: ring.epoch }, owner);
}
