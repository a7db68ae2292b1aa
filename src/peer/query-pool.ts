// The console's query-dht operation: one query, or several at once when query-dht lines of this
// peer wait in the console (a script, a paste). A query spends most of its life waiting for
// datagrams (the manager's answer, then the walk), so running them one after the other leaves
// every process idle; up to `queriesInFlight` run together (--queries-in-flight, default 16).
//
// Each query's lines stay together and in the order the queries were typed: the oldest query
// prints as it goes (a single query looks exactly as before), a later one keeps its lines until
// every earlier one has printed. Any other line (another command, a typo, a query without its
// event id) waits until every query in flight is over, so it runs where it was typed.
import type { MessageOf } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import { PEER_COMMANDS, parseEventId, parseLine } from '../console/commands.js';
import { assert } from '../runtime/assert.js';
import type { Host, Res } from './operation.js';
import { responseLine } from './manager-link.js';
import { Query } from './query.js';

interface Entry { query: Query; lines: string[]; done: boolean }

export class QueryOp {
  readonly kind = 'query';
  /** Oldest first; only the first prints directly. Bounded by the configured number in flight. */
  private readonly entries: Entry[] = [];

  constructor(private readonly name: string, private readonly first: number | null) {}

  /** The oldest query's phase: 'asking' while it waits for its event id on the console. */
  get phase(): Query['phase'] {
    return this.entries[0]?.query.phase ?? 'requesting';
  }

  start(host: Host): void {
    this.add(host, this.first);
  }

  /** The line for the event id a query without one asked for. */
  onLine(host: Host, text: string): void {
    const head = this.entries[0];
    assert(head !== undefined && head.query.phase === 'asking', 'a line for the event id while asking');
    head.query.onLine(host, text);
  }

  /** Whether the next console line joins the queries in flight (and if so, it has started). */
  take(host: Host, line: string): boolean {
    if (this.phase === 'asking' || this.entries.length >= Math.max(1, host.ctx.config.queriesInFlight ?? 1)) return false;
    const parsed = parseLine(line, PEER_COMMANDS);
    if (parsed.kind !== 'command' || parsed.cmd !== 'query-dht' || parsed.args[0] !== this.name || parsed.args[1] === undefined) return false;
    const id = parseEventId(parsed.args[1]);
    if (id === null) return false;
    this.add(host, id);
    return true;
  }

  private add(host: Host, eventId: number | null): void {
    const entry: Entry = { query: undefined as unknown as Query, lines: [], done: false };
    entry.query = new Query(this.name, eventId, {
      print: (line) => (this.entries[0] === entry ? host.ctx.print(line) : entry.lines.push(line)),
      done: () => this.done(host, entry),
    });
    this.entries.push(entry);
    entry.query.start(host);
  }

  /** A query is over: print every finished query at the head, in order; the op ends with the last. */
  private done(host: Host, entry: Entry): void {
    assert(!entry.done, 'a query ends once');
    entry.done = true;
    host.ctx.drop(entry.query);
    // Bounded by the entries: each pass removes one.
    while (this.entries[0]?.done) {
      this.entries.shift();
      const next = this.entries[0];
      if (next) for (const line of next.lines.splice(0)) host.ctx.print(line);
    }
    if (this.entries.length === 0) host.finish(this);
  }


  /** The manager's answer to one query's request (`owner`: the query that sent it). */
  onResponse(host: Host, res: Res, owner: object | undefined): void {
    const query = this.find(owner);
    if (query?.phase === 'requesting') query.onResponse(host, res);
    else host.ctx.print(responseLine('query-dht', res));
  }

  /** An event-result: taken by the walking query whose walk it answers, if any. */
  onResult(host: Host, from: Addr, m: MessageOf<'event-result'>): boolean {
    for (const e of this.entries) if (!e.done && e.query.phase === 'walking' && e.query.onResult(host, from, m)) return true;
    return false;
  }

  onTimeout(host: Host): void {
    // A query that ends here may let later ones print; one ended meanwhile is not woken again.
    for (const e of [...this.entries]) if (!e.done) e.query.onTimeout(host);
  }

  get retryAt(): number | undefined {
    // Asked after every event: a plain loop, no allocation.
    let at: number | undefined;
    for (const e of this.entries) {
      const t = e.done ? undefined : e.query.retryAt;
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  /** A hop of one of these queries was never acknowledged. */
  onHopFailed(host: Host, owner: object, why: string): boolean {
    const query = this.find(owner);
    query?.onHopFailed(host, why);
    return query !== undefined;
  }

  private find(owner: object | undefined): Query | undefined {
    for (const e of this.entries) if (!e.done && e.query === owner) return e.query;
    return undefined;
  }

  /** Queries in flight, for the status line. */
  get size(): number {
    return this.entries.length;
  }
}
