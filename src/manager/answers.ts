// Answers kept for retransmitted requests (PROTOCOL §4.4): a repeated `cmd` gets the same `res`
// again and is never applied twice. Registered addresses get a cache of their own, so that a
// flood of forged commands from elsewhere (kept in one shared cache) cannot push a real peer's
// answer out. Everything is bounded in entries and in bytes, and every operation is O(1)
// amortised: registration cost does not grow with the number of registered peers.
import type { MessageOf } from '../protocol/messages.js';
import { addrKey, type Addr } from '../reliable/index.js';
import { BoundedCache } from './bounded.js';

type Res = MessageOf<'res'>;

const MIB = 1024 * 1024;
/** Answers one registered address keeps: its retransmissions come within seconds of the request. */
export const PER_ADDRESS = 64;
/** Addresses with a cache of their own; past this, the least recently answered loses its cache. */
export const MAX_ANSWER_CACHES = 4096;
/** Bytes of all per-address caches together (a setup-dht answer listing 4,096 peers is ~200 KB). */
export const MEMBER_BYTES = 16 * MIB;
/** Answers to strangers and to unregistered addresses share this cache. */
const OTHERS = { entries: 4096, bytes: 2 * MIB };
/**
 * A peer's answers once it has deregistered: only a registered owner's deregister puts them
 * here, so strangers cannot push out the SUCCESS a retransmitted deregister must get again.
 */
const DEPARTED = { entries: 1024, bytes: 2 * MIB };

/** Size of an answer as sent: bytes of its JSON. */
export const resBytes = (res: Res): number => JSON.stringify(res).length;

export class AnswerCache {
  /** Map order is recency: the least recently answered address comes first. */
  private readonly byAddr = new Map<string, BoundedCache<Res>>();
  private memberBytes = 0;
  private readonly others = new BoundedCache<Res>(OTHERS.entries, OTHERS.bytes);
  private readonly departed = new BoundedCache<Res>(DEPARTED.entries, DEPARTED.bytes);
  /** Caches dropped so far (work done by eviction; tests check it stays proportional to use). */
  evicted = 0;

  get(from: Addr, key: string): Res | undefined {
    return this.byAddr.get(addrKey(from))?.get(key) ?? this.departed.get(key) ?? this.others.get(key);
  }

  /** Keep `res`; a successful `register` gives its address a cache, a successful `deregister` drops it. */
  remember(from: Addr, key: string, res: Res): void {
    const addr = addrKey(from);
    const bytes = resBytes(res);
    let mine = this.byAddr.get(addr);
    if (res.code === 'SUCCESS' && res.cmd === 'deregister') {
      if (mine) this.drop(addr, mine);
      this.departed.set(key, res, bytes);
      return;
    }
    if (!mine && res.code === 'SUCCESS' && res.cmd === 'register') mine = new BoundedCache<Res>(PER_ADDRESS, MEMBER_BYTES);
    if (!mine) return this.others.set(key, res, bytes);
    this.byAddr.delete(addr); // re-inserted last: the most recently answered
    this.byAddr.set(addr, mine);
    const before = mine.bytes;
    mine.set(key, res, bytes);
    this.memberBytes += mine.bytes - before;
    this.trim(mine);
  }

  /**
   * Forget an address's answers: its peer was declared dead, so a `register` it retransmits must
   * be taken anew (a new token), not answered with the dead registration's SUCCESS.
   */
  forget(from: Addr): void {
    const addr = addrKey(from);
    const mine = this.byAddr.get(addr);
    if (mine) this.drop(addr, mine);
  }

  /** Entries and bytes held, for tests. */
  held(): { caches: number; memberBytes: number; othersBytes: number; departedBytes: number } {
    return { caches: this.byAddr.size, memberBytes: this.memberBytes, othersBytes: this.others.bytes, departedBytes: this.departed.bytes };
  }

  /** Over either bound, the least recently answered addresses lose their caches (never `keep`). */
  private trim(keep: BoundedCache<Res>): void {
    for (const [addr, cache] of this.byAddr) {
      if (this.byAddr.size <= MAX_ANSWER_CACHES && this.memberBytes <= MEMBER_BYTES) return;
      if (cache !== keep) this.drop(addr, cache);
    }
  }

  private drop(addr: string, cache: BoundedCache<Res>): void {
    this.byAddr.delete(addr);
    this.memberBytes -= cache.bytes;
    this.evicted += 1;
  }
}
