// Defaults of the tunables both programs expose on their command lines.
import { DEFAULT_RETRY, type RetryPolicy } from '../reliable/index.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';

/** Store batches in flight per ring hop: ~180 KB, inside even a default (208 KB) socket buffer. */
export const DEFAULT_WINDOW = 128;
/** The querying peer resends find-event with a doubling timeout until this much time has passed. */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/** Queries a script's burst of query-dht lines runs at once (src/peer/query-pool.ts). */
export const DEFAULT_QUERIES_IN_FLIGHT = 16;
/** How long the manager waits for dht-complete, dht-rebuilt or teardown-complete. */
export const DEFAULT_WAIT_TIMEOUT_S = 60;
export { DEFAULT_MAX_PAYLOAD };

export function retryPolicy(rtoMs: number | undefined, tries: number | undefined): RetryPolicy {
  const rto = rtoMs ?? DEFAULT_RETRY.rtoMs;
  return { rtoMs: rto, minRtoMs: Math.min(rto, DEFAULT_RETRY.minRtoMs ?? rto), maxRtoMs: Math.max(rto, DEFAULT_RETRY.maxRtoMs), maxTries: tries ?? DEFAULT_RETRY.maxTries };
}
