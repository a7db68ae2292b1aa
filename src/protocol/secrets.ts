// Unguessable values of default mode (PROTOCOL §8): a peer's token, a DHT's secret and the query
// capability derived from it. The programs draw them from the operating system's cryptographic
// source; the simulation and the unit tests from their seeded random, so a run replays exactly.
// Never Math.random: an attacker who sees a few of its outputs can predict the rest.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Tuple } from './messages.js';

/** Bytes of randomness in a secret: 128 bits, 22 characters of base64url. */
export const SECRET_BYTES = 16;

/**
 * Randomness drawn from the operating system 4 KB at a time: one call per 256 secrets instead of
 * one per secret (a querier draws one per query). Every byte is used once.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

/** A fresh secret from the operating system's cryptographic source (the shells' `env.secret`). */
export function cryptoSecret(): string {
  if (poolAt + SECRET_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const secret = pool.toString('base64url', poolAt, poolAt + SECRET_BYTES);
  pool.fill(0, poolAt, poolAt + SECRET_BYTES); // handed out: not kept in memory
  poolAt += SECRET_BYTES;
  return secret;
}

/** A secret drawn from a seeded random source: for the simulation and the tests only. */
export function seededSecret(random: () => number): () => string {
  return () => {
    const bytes = Buffer.alloc(SECRET_BYTES);
    for (let i = 0; i < SECRET_BYTES; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
    return bytes.toString('base64url');
  };
}

/** A 40-bit number from a secret: request-id starts and query ids nobody off the path can guess. */
export function numberOf(secret: string): number {
  const b = Buffer.from(secret, 'base64url');
  return ((b[0] ?? 0) * 2 ** 32) + (((b[1] ?? 0) << 24) >>> 0) + ((b[2] ?? 0) << 16) + ((b[3] ?? 0) << 8) + (b[4] ?? 0);
}

/**
 * The capability a query's first hop carries: an HMAC of the querier's tuple under the DHT's
 * secret. The manager gives it in the query-dht answer; any member checks it with the secret it
 * holds, so the first hop needs no secret of the ring and answers go only to a querier the
 * manager vouched for.
 */
export function queryCapability(secret: string, querier: Tuple): string {
  // The same querier asks again and again under the same secret: the HMAC (a native object and a
  // digest, the largest part of a query's work at the manager and the first member) is
  // remembered for the last CAPABILITIES pairs.
  const key = `${secret}\n${querier.name}\n${querier.ip}\n${querier.port}`;
  const known = capabilities.get(key);
  if (known !== undefined) return known;
  const cap = createHmac('sha256', secret).update(`find-event\n${querier.name}\n${querier.ip}\n${querier.port}`).digest().subarray(0, SECRET_BYTES).toString('base64url');
  if (capabilities.size >= CAPABILITIES) capabilities.clear();
  capabilities.set(key, cap);
  return cap;
}
const CAPABILITIES = 1024;
const capabilities = new Map<string, string>();

/** Equal secrets, compared in constant time; undefined (a field left out) never matches. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
