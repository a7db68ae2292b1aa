// The peer's side of each manager request, typed by request: how a typed command starts, and what
// its response does. Both are records over ManagerRequest, so adding a request to
// protocol/requests.ts makes the compiler ask for both entries here.
import type { ManagerRequest } from '../protocol/requests.js';
import { parseEventId, parseIpv4, parsePort, parseYear } from '../console/commands.js';
import { assert } from '../runtime/assert.js';
import type { Host, Res } from './operation.js';
import { RegisterOp } from './register.js';
import { SetupOp } from './setup.js';
import { QueryOp } from './query-pool.js';
import { LeaveOp } from './leave.js';
import { JoinOp } from './join.js';
import { TeardownOp } from './teardown.js';

type Start = (host: Host, args: string[]) => void;
/** `owner`: who sent the request, when several are out (the queries of query-pool.ts). */
type OnResponse = (host: Host, res: Res, owner?: object) => void;

/** A request sent as typed; its response is only printed (and the follow-ups below). */
const plain = (req: ManagerRequest): Start => (host, args) => host.request(req, args);

/** Arguments were checked by the console (console/commands.ts) before any of these runs. */
function arg(args: string[], i: number): string {
  const a = args[i];
  assert(a !== undefined, `argument ${i} checked by the console`);
  return a;
}

function parsed<T>(value: T | null, what: string): T {
  assert(value !== null, `${what} checked by the console`);
  return value;
}

export const START: Record<ManagerRequest, Start> = {
  register: (host, args) => {
    const me = { name: arg(args, 0), ip: parsed(parseIpv4(arg(args, 1)), 'IPv4'), mport: parsed(parsePort(arg(args, 2)), 'm-port'), pport: parsed(parsePort(arg(args, 3)), 'p-port') };
    host.start(new RegisterOp(me, args));
  },
  'setup-dht': (host, args) => host.start(new SetupOp(args, parsed(parseYear(arg(args, 2)), 'year'))),
  'query-dht': (host, args) => host.start(new QueryOp(arg(args, 0), args[1] === undefined ? null : parsed(parseEventId(args[1]), 'event id'))),
  'leave-dht': (host, args) => host.start(new LeaveOp(args, host.ctx.now)),
  'join-dht': (host, args) => host.start(new JoinOp(args, host.ctx.now)),
  'teardown-dht': (host, args) => host.start(new TeardownOp(args, host.ctx.now)),
  'dht-complete': plain('dht-complete'),
  'dht-rebuilt': plain('dht-rebuilt'),
  deregister: plain('deregister'),
  'teardown-complete': plain('teardown-complete'),
  'dht-abort': plain('dht-abort'),
};

export const RESPONSES: Record<ManagerRequest, OnResponse> = {
  register: (host, res) => {
    if (host.op?.kind === 'register') host.op.onResponse(host, res);
  },
  'setup-dht': (host, res) => {
    if (host.op?.kind === 'setup' && host.op.phase === 'requesting') host.op.onResponse(host, res);
  },
  'dht-complete': (host, res) => {
    if (host.op?.kind === 'setup' && host.op.phase === 'completing') host.op.onCompleted(host, res);
  },
  'query-dht': (host, res, owner) => {
    if (host.op?.kind === 'query') host.op.onResponse(host, res, owner);
  },
  'leave-dht': (host, res) => {
    if (host.op?.kind === 'leave' && host.op.phase === 'requesting') host.op.onResponse(host, res);
  },
  'join-dht': (host, res) => {
    if (host.op?.kind === 'join' && host.op.phase === 'requesting') host.op.onResponse(host, res);
  },
  'dht-rebuilt': (host, res) => {
    const op = host.op;
    if ((op?.kind === 'leave' || op?.kind === 'join' || op?.kind === 'repair') && op.phase === 'reporting') op.onCompleted(host, res);
  },
  deregister: (host, res) => {
    if (res.code !== 'SUCCESS') return;
    host.unregister();
    host.ctx.emit({ kind: 'exit', code: 0 });
  },
  'teardown-dht': (host, res) => {
    if (host.op?.kind === 'teardown' && host.op.phase === 'requesting') host.op.onResponse(host, res);
  },
  'teardown-complete': (host, res) => {
    if (host.op?.kind === 'teardown' && host.op.phase === 'completing') host.op.onCompleted(host, res);
  },
  'dht-abort': () => {},
};
