// Merging the logs of several processes into one happens-before order. Clocks of different hosts
// are not comparable, so order comes from messages: each receive is matched to a send with the
// same source, destination and message hash (first sent, first matched), and the order is program
// order in each process plus send → receive. Vector clocks and a causality-respecting time
// estimate are computed afterwards, for the writers (html.ts, shiviz.ts, perfetto.ts).
import type { LogEvent, MessageEvent } from '../eventlog/format.js';
import type { ProcessLog } from './read.js';

export interface Node {
  id: number;
  proc: number;
  e: LogEvent;
  /** Receive: the id of the send it was matched with, or -1 (its sender kept no log). */
  from: number;
  /** Receive: a second delivery of a send already received (a network duplicate). */
  dup: boolean;
  /** Send: ids of the receives matched with it (none: lost, or sent to a process without a log). */
  to: number[];
  /** Position in the merged order. */
  order: number;
  vc: Int32Array;
  /** Estimated time (ms, the first process's clock), after every send it depends on. */
  time: number;
  /** Id of the console command in whose wake this event happened, or -1. */
  span: number;
}

export interface Merged {
  procs: ProcessLog[];
  /** By id: processes in input order, each in program order. */
  nodes: Node[];
  /** Ids in a topological order of happens-before. */
  order: number[];
  /** `ip:port` → index of the process that used the address. */
  owners: Map<string, number>;
  stats: MergeStats;
}

export interface MergeStats {
  events: number;
  sends: number;
  receives: number;
  matched: number;
  /** Sends to a logged process that never received them. */
  lost: number;
  /** Sends to an address no log belongs to. */
  toUnlogged: number;
  /** Receives whose sender kept no log. */
  unmatched: number;
  duplicates: number;
  /** Milliseconds the offset estimate had to move clocks by (0 when they agree). */
  maxShiftMs: number;
}

/** Smallest step between an event and the next in the estimated time. */
const EPS_MS = 0.002;

export function merge(procs: ProcessLog[]): Merged {
  const nodes: Node[] = [];
  const heads: number[] = [];
  procs.forEach((p, pi) => {
    heads.push(nodes.length);
    for (const e of p.events) nodes.push({ id: nodes.length, proc: pi, e, from: -1, dup: false, to: [], order: -1, vc: new Int32Array(0), time: 0, span: -1 });
  });
  heads.push(nodes.length);
  match(procs, nodes, heads);
  const owners = ownersOf(nodes);
  const maxShiftMs = estimateOffsets(procs, nodes);
  const order = topological(procs, nodes, heads);
  clocks(nodes, order, procs.length);
  return { procs, nodes, order, owners, stats: stats(nodes, owners, maxShiftMs) };
}

export const isSend = (e: LogEvent): e is Extract<MessageEvent, { k: 'send' }> => e.k === 'send';
export const isReceive = (e: LogEvent): e is Extract<MessageEvent, { k: 'recv' }> => e.k === 'recv';
/**
 * Matching key: both ports and the hash. Addresses are compared separately (`sameHost`), since a
 * process listening on every interface (the manager's default, 0.0.0.0) does not know the
 * address its datagrams were sent to.
 */
const keyOf = (e: MessageEvent): string => `${portOf(e.src)}>${portOf(e.dst)}#${e.h}`;
const portOf = (endpoint: string): string => endpoint.slice(endpoint.lastIndexOf(':') + 1);
const ipOf = (endpoint: string): string => endpoint.slice(0, Math.max(0, endpoint.lastIndexOf(':')));
const WILDCARD = new Set(['', '0.0.0.0', '::']);
const sameIp = (a: string, b: string): boolean => a === b || WILDCARD.has(a) || WILDCARD.has(b);
const sameHost = (s: MessageEvent, r: MessageEvent): boolean => sameIp(ipOf(s.src), ipOf(r.src)) && sameIp(ipOf(s.dst), ipOf(r.dst));

/** The oldest send in `queue` whose addresses fit the receive, taken out of the queue. */
function take(nodes: Node[], queue: number[] | undefined, r: MessageEvent): number | undefined {
  if (!queue) return undefined;
  const i = queue.findIndex((id) => sameHost(nodes[id]!.e as MessageEvent, r));
  return i < 0 ? undefined : queue.splice(i, 1)[0];
}

/**
 * Replays the processes: a process runs until it meets a receive whose send has not happened yet.
 * A receive takes the oldest sent, not yet received send of its key. When every process waits,
 * a waiting receive must be a network duplicate (more receives than sends of its key so far): it
 * is matched with the latest send of its key, or marked unmatched if there is none.
 */
function match(procs: ProcessLog[], nodes: Node[], heads: number[]): void {
  const remaining = new Map<string, number>();
  for (const n of nodes) if (isSend(n.e)) remaining.set(keyOf(n.e), (remaining.get(keyOf(n.e)) ?? 0) + 1);
  const pool = new Map<string, number[]>();
  const latest = new Map<string, number>();
  const forced = new Set<number>();
  const ptr = heads.slice(0, procs.length);
  let done = 0;
  // Each round but a forcing one runs at least one event, and a forcing round unblocks one.
  for (let round = 0; done < nodes.length && round <= 2 * nodes.length + 1; round++) {
    let progressed = false;
    for (let p = 0; p < procs.length; p++) {
      for (; ptr[p]! < heads[p + 1]!; ptr[p]! += 1, done += 1, progressed = true) {
        const n = nodes[ptr[p]!]!;
        if (isSend(n.e)) {
          const key = keyOf(n.e);
          remaining.set(key, remaining.get(key)! - 1);
          let q = pool.get(key);
          if (!q) pool.set(key, (q = []));
          q.push(n.id);
          latest.set(key, n.id);
        } else if (isReceive(n.e) && !forced.has(n.id)) {
          const key = keyOf(n.e);
          const sent = take(nodes, pool.get(key), n.e);
          if (sent !== undefined) link(nodes, sent, n, false);
          else if ((remaining.get(key) ?? 0) > 0) break; // its send is still to come
          else if (latest.has(key)) link(nodes, latest.get(key)!, n, true);
        }
      }
    }
    if (!progressed) forceOne(nodes, ptr, heads, procs.length, latest, forced);
  }
}

function link(nodes: Node[], send: number, recv: Node, dup: boolean): void {
  recv.from = send;
  recv.dup = dup;
  nodes[send]!.to.push(recv.id);
}

/**
 * Every process waits: one waiting receive must be a network duplicate whose sender's later
 * retransmission (same bytes) is still to come, and that retransmission waits on this process.
 * A receive of a key already sent is taken as a duplicate of the latest such send; only when no
 * waiting receive has one is the first marked unmatched (a sender without a log, or a log cut
 * short), so that the replay goes on. Picking by process order instead would mark a receive
 * unmatched whose send is merely blocked behind the duplicate.
 */
function forceOne(nodes: Node[], ptr: number[], heads: number[], count: number, latest: Map<string, number>, forced: Set<number>): void {
  let first: Node | null = null;
  for (let p = 0; p < count; p++) {
    if (ptr[p]! >= heads[p + 1]!) continue;
    const n = nodes[ptr[p]!]!;
    first ??= n;
    const key = keyOf(n.e as MessageEvent);
    if (!latest.has(key)) continue;
    link(nodes, latest.get(key)!, n, true);
    forced.add(n.id);
    return;
  }
  // Left unmatched; the next round runs it as a stranger's receive.
  if (first) forced.add(first.id);
}

/**
 * Which process each address belongs to: the concrete addresses a process used itself, and the
 * address each matched message was sent to and came from (which names a wildcard listener).
 */
function ownersOf(nodes: Node[]): Map<string, number> {
  const owners = new Map<string, number>();
  const own = (addr: string, proc: number): void => {
    if (addr && !WILDCARD.has(ipOf(addr))) owners.set(addr, proc);
  };
  for (const n of nodes) {
    if (isSend(n.e)) own(n.e.src, n.proc);
    else if (isReceive(n.e)) {
      own(n.e.dst, n.proc);
      if (n.from >= 0) {
        own(n.e.src, nodes[n.from]!.proc);
        own((nodes[n.from]!.e as MessageEvent).dst, n.proc);
      }
    }
  }
  return owners;
}

/**
 * Offsets that bring every process's clock onto the first's: the headers' wall clocks give a
 * first guess, then each receive is moved no earlier than its send (longest-path relaxation,
 * bounded by the number of processes; a drifting clock may leave some violations, which the
 * ordering pass clamps). Returns the largest correction made to the first guess.
 */
function estimateOffsets(procs: ProcessLog[], nodes: Node[]): number {
  const base = procs.length > 0 ? Date.parse(procs[0]!.header.wall) - procs[0]!.header.t : 0;
  const guess = procs.map((p) => (Date.parse(p.header.wall) - p.header.t) - base);
  const off = guess.map((g) => (Number.isFinite(g) ? g : 0));
  const start = off.slice();
  for (let round = 0; round <= procs.length; round++) {
    let changed = false;
    for (const n of nodes) {
      if (n.from < 0) continue;
      const s = nodes[n.from]!;
      const need = s.e.t + off[s.proc]! - n.e.t;
      if (off[n.proc]! < need) {
        off[n.proc] = need;
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (const n of nodes) n.time = n.e.t + off[n.proc]!;
  return Math.max(0, ...off.map((o, i) => Math.abs(o - start[i]!)));
}

/**
 * Kahn's algorithm over program order and send → receive. Among the processes whose next event
 * may go next, the earliest estimated time goes first: that only orders concurrent events, so the
 * layout reads like the run without ever contradicting causality.
 */
function topological(procs: ProcessLog[], nodes: Node[], heads: number[]): number[] {
  const ptr = heads.slice(0, procs.length);
  const order: number[] = [];
  const last = new Array<number>(procs.length).fill(-Infinity);
  for (let step = 0; step < nodes.length; step++) {
    let best = -1;
    for (let p = 0; p < procs.length; p++) {
      if (ptr[p]! >= heads[p + 1]!) continue;
      const n = nodes[ptr[p]!]!;
      if (n.from >= 0 && nodes[n.from]!.order < 0) continue;
      if (best < 0 || n.time < nodes[ptr[best]!]!.time) best = p;
    }
    if (best < 0) throw new Error('diagram: the happens-before relation has a cycle (a bug in matching)');
    const n = nodes[ptr[best]!]!;
    ptr[best]! += 1;
    n.order = order.length;
    order.push(n.id);
    const after = n.from >= 0 ? nodes[n.from]!.time + EPS_MS : -Infinity;
    n.time = Math.max(n.time, last[best]! + EPS_MS, after);
    last[best] = n.time;
  }
  return order;
}

/** Vector clocks (each process's own entry counts its events, from 1) and command spans. */
function clocks(nodes: Node[], order: number[], count: number): void {
  const prev = new Array<Node | null>(count).fill(null);
  for (const id of order) {
    const n = nodes[id]!;
    const before = prev[n.proc];
    n.vc = before ? before.vc.slice() : new Int32Array(count);
    n.vc[n.proc]! += 1;
    n.span = before ? before.span : -1;
    if (n.from >= 0) {
      const s = nodes[n.from]!;
      for (let i = 0; i < count; i++) if (s.vc[i]! > n.vc[i]!) n.vc[i] = s.vc[i]!;
      if (s.span >= 0 && (n.span < 0 || nodes[s.span]!.order > nodes[n.span]!.order)) n.span = s.span;
    }
    if (n.e.k === 'console') n.span = n.id;
    prev[n.proc] = n;
  }
}

function stats(nodes: Node[], owners: Map<string, number>, maxShiftMs: number): MergeStats {
  const s: MergeStats = { events: nodes.length, sends: 0, receives: 0, matched: 0, lost: 0, toUnlogged: 0, unmatched: 0, duplicates: 0, maxShiftMs };
  for (const n of nodes) {
    if (isSend(n.e)) {
      s.sends += 1;
      if (n.to.length === 0) {
        if (owners.has(n.e.dst)) s.lost += 1;
        else s.toUnlogged += 1;
      }
    } else if (isReceive(n.e)) {
      s.receives += 1;
      if (n.from < 0) s.unmatched += 1;
      else if (n.dup) s.duplicates += 1;
      else s.matched += 1;
    }
  }
  return s;
}
