// register (SPEC §2.2 1): bind the two ports first, then ask the manager. A peer that cannot bind
// sends nothing; one the manager refuses unbinds again.
import { assert } from '../runtime/assert.js';
import type { Host, Res } from './operation.js';
import type { Me } from './state.js';

export class RegisterOp {
  readonly kind = 'register';
  phase: 'binding' | 'registering' = 'binding';

  constructor(readonly me: Me, private readonly args: string[]) {}

  start(host: Host): void {
    host.ctx.emit({ kind: 'bind', name: this.me.name, ip: this.me.ip, mport: this.me.mport, pport: this.me.pport });
  }

  onBound(host: Host): void {
    assert(this.phase === 'binding', 'bound while binding');
    this.phase = 'registering';
    host.registered(this.me);
    host.request('register', this.args);
  }

  onBindFailed(host: Host, error: string): void {
    host.ctx.print(`register: cannot use those ports — ${error} (nothing was sent)`);
    host.finish(this);
  }

  onResponse(host: Host, res: Res): void {
    if (res.code !== 'SUCCESS') host.unregister();
    host.finish(this);
  }
}
