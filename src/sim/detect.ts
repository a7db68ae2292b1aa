// Failure detection measured (PROTOCOL §4.11), in the deterministic simulation with the real
// cores: per seed, K peers register with a manager that detects failures (the defaults), live
// together for a while on a lossy network (any peer declared dead then is a false positive), then
// one of them is killed at a random moment and the time until the manager declares it dead is
// taken. `npm run sim:detect -- --seeds 10000 --loss 0.3` prints the figures.
import { toLine } from '../data/line.js';
import { DEFAULT_LIVENESS, type LivenessConfig } from '../manager/liveness.js';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/codec.js';
import type { RetryPolicy } from '../reliable/index.js';
import { forkRandom } from './rng.js';
import { smallDataset } from './scenario.js';
import { World } from './world.js';

export interface DetectOptions {
  loss: number;
  dup: number;
  reorder: number;
  peers: number;
  /** Virtual time all peers live together after registering (false positives are counted here and after). */
  liveMs: number;
  liveness: LivenessConfig;
}

export const DETECT_DEFAULTS: DetectOptions = { loss: 0.3, dup: 0.05, reorder: 0.1, peers: 5, liveMs: 30_000, liveness: DEFAULT_LIVENESS };

const RETRY: RetryPolicy = { rtoMs: 50, minRtoMs: 20, maxRtoMs: 400, maxTries: 30 };
const DATA = smallDataset(1996, 20, 1);

export interface DetectReport {
  seed: number;
  /** ms from the kill to the declaration; null if it was never declared (within 10 s). */
  detectMs: number | null;
  /** Live peers the manager declared dead (false positives). */
  falsePositives: string[];
  /** Liveness datagrams (alive + probe, both ways) per peer per second while all lived. */
  perPeerPerS: number;
  /** Peers that never got registered (the seed then measures fewer). */
  unregistered: number;
}

export function runDetectSeed(seed: number, o: DetectOptions = DETECT_DEFAULTS): DetectReport {
  const w = new World({
    seed, faults: { loss: o.loss, dup: o.dup, reorder: o.reorder },
    manager: { waitTimeoutMs: 60_000, retry: RETRY, liveness: o.liveness },
    peer: { retry: RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 5_000 },
    datasets: new Map([[1996, { year: 1996, lines: DATA.records.map(toLine), source: 'sim' }]]),
  });
  const declared: { name: string; at: number }[] = [];
  w.onPrint = (node, text) => {
    const m = /^liveness: (\S+) declared dead/.exec(text);
    if (node === 'manager' && m) declared.push({ name: m[1]!, at: w.now });
  };
  let liveness = 0;
  const counting = new Set(['alive', 'probe', 'ping-req', 'ping', 'pong']);
  const names: string[] = [];
  for (let i = 1; i <= o.peers; i++) {
    const name = `peer${i}`;
    names.push(name);
    const p = w.addPeer(name, 5000 + 2 * i, 5001 + 2 * i);
    // Count liveness datagrams as the peers and the manager send them.
    void p;
    w.type(name, `register ${name} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`);
  }
  w.onSend = (msgType) => { if (counting.has(msgType)) liveness += 1; };
  const registered = () => names.filter((n) => w.manager.peers.has(n) && w.peer(n).core.heartbeat.running);
  w.runUntil(() => registered().length === o.peers && names.every((n) => w.peer(n).core.idle), 20_000);
  const live = registered();
  const start = w.now;
  const before = liveness;
  w.settle(o.liveMs);
  const perPeerPerS = live.length === 0 ? 0 : (liveness - before) / live.length / ((w.now - start) / 1000);
  // Kill one at a random moment within a heartbeat period, then wait for the declaration.
  const random = forkRandom(seed, 'detect');
  const victim = live[Math.floor(random() * live.length)];
  let detectMs: number | null = null;
  if (victim !== undefined) {
    w.settle(random() * o.liveness.heartbeatMs * 4);
    w.kill(victim);
    const killedAt = w.now;
    w.runUntil(() => declared.some((d) => d.name === victim), 10_000);
    const d = declared.find((x) => x.name === victim);
    detectMs = d ? d.at - killedAt : null;
  }
  const falsePositives = declared.filter((d) => d.name !== victim).map((d) => d.name);
  return { seed, detectMs, falsePositives, perPeerPerS, unregistered: o.peers - live.length };
}

export interface DetectSummary {
  seeds: number;
  detected: number;
  p50: number;
  p99: number;
  max: number;
  falsePositives: number;
  fpSeeds: number[];
  perPeerPerS: number;
}

export function summarize(reports: DetectReport[]): DetectSummary {
  const times = reports.map((r) => r.detectMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
  const q = (p: number) => times.length === 0 ? NaN : times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!;
  return {
    seeds: reports.length,
    detected: times.length,
    p50: q(0.5), p99: q(0.99), max: times.at(-1) ?? NaN,
    falsePositives: reports.reduce((a, r) => a + r.falsePositives.length, 0),
    fpSeeds: reports.filter((r) => r.falsePositives.length > 0).map((r) => r.seed),
    perPeerPerS: reports.reduce((a, r) => a + r.perPeerPerS, 0) / Math.max(1, reports.length),
  };
}
