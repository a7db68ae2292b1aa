// The manager's requests (SPEC §2.2, plus our dht-abort): their names and argument roles, in one
// place. The peer console's usage and syntax checks, the manager's arity check and its rule table
// are all keyed by `ManagerRequest`, so adding a request here makes the compiler list every place
// that must learn about it.

export interface RequestSpec {
  /** Argument roles, in order (the words a person types after the command). */
  readonly args: readonly string[];
  /** Trailing console-only arguments that may be left out (query-dht's event id). */
  readonly optional?: readonly string[];
  readonly help: string;
}

export const REQUESTS = {
  register: { args: ['peer-name', 'IPv4', 'm-port', 'p-port'], help: 'register this peer with the manager (binds its two ports)' },
  'setup-dht': { args: ['peer-name', 'n', 'YYYY'], help: 'build a DHT of n peers, led by this one, from details-YYYY.csv' },
  'dht-complete': { args: ['peer-name'], help: 'tell the manager setup is done (sent by itself after setup)' },
  'query-dht': { args: ['peer-name'], optional: ['event-id'], help: 'look up a storm event in the DHT (asks for the id if not given)' },
  'leave-dht': { args: ['peer-name'], help: 'leave the DHT; the ring renumbers and rebuilds without this peer' },
  'join-dht': { args: ['peer-name'], help: 'join the DHT; the ring renumbers and rebuilds with this peer' },
  'dht-rebuilt': { args: ['peer-name', 'new-leader'], help: 'tell the manager a leave/join is done (sent by itself)' },
  deregister: { args: ['peer-name'], help: 'leave the system; the peer then exits' },
  'teardown-dht': { args: ['peer-name'], help: 'delete the DHT (leader only)' },
  'teardown-complete': { args: ['peer-name'], help: 'tell the manager teardown is done (sent by itself)' },
  'dht-abort': { args: ['peer-name'], help: 'tell the manager a setup/leave/join cannot finish (sent by itself on failure)' },
} as const satisfies Record<string, RequestSpec>;

export type ManagerRequest = keyof typeof REQUESTS;
export const MANAGER_REQUESTS = Object.keys(REQUESTS) as readonly ManagerRequest[];

export function isManagerRequest(cmd: string): cmd is ManagerRequest {
  return Object.hasOwn(REQUESTS, cmd);
}

/** Fewest and most argument words a request takes on the wire. */
export function arity(request: ManagerRequest): readonly [number, number] {
  const spec: RequestSpec = REQUESTS[request];
  return [spec.args.length, spec.args.length + (spec.optional?.length ?? 0)];
}
