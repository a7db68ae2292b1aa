// Answers kept for retransmitted requests (PROTOCOL §4.4): a repeated `cmd` gets the same `res`
// again and is never applied twice. Per registered address, so that a flood of forged commands
// from elsewhere (kept in one shared cache) cannot push a real peer's answer out.
import type { MessageOf } from '../protocol/messages.js';
import { Recent, addrKey, type Addr } from '../reliable/index.js';

type Res = MessageOf<'res'>;

/** Addresses with their own answer cache; departed ones are dropped when this many exist. */
const MAX_ANSWER_CACHES = 4096;

export class AnswerCache {
  private readonly answeredBy = new Map<string, Recent<Res>>();
  private readonly answeredOthers = new Recent<Res>(4096);

  get(from: Addr, key: string): Res | undefined {
    return this.answeredBy.get(addrKey(from))?.get(key) ?? this.answeredOthers.get(key);
  }

  /**
   * Keep `res`; a successful `register` gives its address a cache of its own. `live` lists the
   * registered m-port addresses (`ip:port`), for dropping the caches of departed ones.
   */
  remember(from: Addr, key: string, res: Res, live: () => Iterable<string>): void {
    const addr = addrKey(from);
    let mine = this.answeredBy.get(addr);
    if (!mine && res.code === 'SUCCESS' && res.cmd === 'register') {
      if (this.answeredBy.size >= MAX_ANSWER_CACHES) this.forgetDeparted(new Set(live()));
      mine = new Recent<Res>(64);
      this.answeredBy.set(addr, mine);
    }
    (mine ?? this.answeredOthers).set(key, res);
  }

  /** Drop the answer caches of addresses no longer registered (bounded memory over a long life). */
  private forgetDeparted(live: ReadonlySet<string>): void {
    for (const addr of this.answeredBy.keys()) if (!live.has(addr)) this.answeredBy.delete(addr);
  }
}
