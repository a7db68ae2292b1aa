// What the peer says about itself: the `status` line, and the local refusal of a command that
// names another peer (a peer sends requests for itself only; the manager would say NOT_OWNER).
import type { ManagerRequest } from '../protocol/requests.js';
import { plural, rightOf, type PeerState } from './state.js';

export function statusLine(state: PeerState, held: number): string {
  if (state.kind === 'unregistered') return 'status: not registered';
  const me = state.me;
  const where = `status: ${me.name} at ${me.ip} m-port ${me.mport} p-port ${me.pport}`;
  if (state.kind === 'free') return `${where}; Free; ${plural(held, 'record')} held`;
  const r = state.ring;
  const right = rightOf(r);
  return `${where}; ${r.id === 0 ? 'Leader' : 'InDHT'}; id ${r.id} of ${r.n}; right neighbour ${right.name} (${right.ip}:${right.port}); ` +
    `year ${r.year}, s ${r.s}; ${plural(held, 'record')} held`;
}

/** Why a command naming `named` cannot be sent by the peer called `me`, or null. */
export function namingProblem(req: ManagerRequest, named: string, me: string): string | null {
  if (named === me) return null;
  if (named.toLowerCase() === me.toLowerCase()) {
    return `${req}: this peer is '${me}', not '${named}' — peer names are case-sensitive (nothing was sent)`;
  }
  return `${req}: this peer is '${me}'; a peer sends requests for itself only, not for '${named}' (nothing was sent)`;
}
