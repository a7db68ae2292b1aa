// The simulated network's faults: loss, duplication, reordering, latency distributions and
// partitions. Each decision draws from the world's seeded stream, so a seed replays exactly.

export interface Faults {
  loss: number;
  dup: number;
  reorder: number;
}

/**
 * How long a datagram travels. `lan`: 0.2–0.4 ms (the original simulation); `uniform`: 0.1–10 ms;
 * `exp`: exponential with a 3 ms mean, a long tail cut at 500 ms; `link`: exponential with a mean
 * drawn once per directed link (0.1–20 ms), so some paths are always slow.
 */
export type Latency = 'lan' | 'uniform' | 'exp' | 'link';
export const LATENCIES: readonly Latency[] = ['lan', 'uniform', 'exp', 'link'];

const BASE_DELAY_MS = 0.2;
const REORDER_DELAY_MS = 20;
const EXP_MEAN_MS = 3;
const TAIL_CAP_MS = 500;
/** Per-link means are kept for at most this many links (the world has far fewer). */
const MAX_LINKS = 100_000;

export class Network {
  /** Nodes cut off from the rest (both ways), or null. */
  private island: ReadonlySet<string> | null = null;
  private readonly linkMeans = new Map<string, number>();

  constructor(readonly faults: Faults, readonly latency: Latency, private readonly random: () => number, private readonly linkRandom: () => number) {}

  /** Delays in ms of the copies of one datagram that get through: none (lost), one, or two (duplicated). */
  delays(from: string, to: string): { delays: number[]; lost: number; duplicated: boolean } {
    const f = this.faults;
    const copies = this.random() < f.dup ? 2 : 1;
    const delays: number[] = [];
    let lost = 0;
    for (let c = 0; c < copies; c++) {
      if (this.random() < f.loss) {
        lost += 1;
        continue;
      }
      const extra = this.random() < f.reorder ? this.random() * REORDER_DELAY_MS : 0;
      delays.push(this.travel(from, to) + extra);
    }
    return { delays, lost, duplicated: copies === 2 };
  }

  private travel(from: string, to: string): number {
    switch (this.latency) {
      case 'lan': return BASE_DELAY_MS + this.random() * BASE_DELAY_MS;
      case 'uniform': return 0.1 + this.random() * 9.9;
      case 'exp': return 0.1 + this.exponential(EXP_MEAN_MS);
      case 'link': return 0.1 + this.exponential(this.linkMean(from, to));
    }
  }

  private exponential(mean: number): number {
    return Math.min(TAIL_CAP_MS, -Math.log(1 - this.random()) * mean);
  }

  /** Drawn from its own stream the first time a link is used, so the draw order of others is unchanged. */
  private linkMean(from: string, to: string): number {
    const key = `${from}>${to}`;
    let mean = this.linkMeans.get(key);
    if (mean === undefined) {
      if (this.linkMeans.size >= MAX_LINKS) this.linkMeans.clear();
      mean = 0.1 + this.linkRandom() * 19.9;
      this.linkMeans.set(key, mean);
    }
    return mean;
  }

  partition(nodes: Iterable<string>): void {
    this.island = new Set(nodes);
  }

  heal(): void {
    this.island = null;
  }

  get partitioned(): ReadonlySet<string> | null {
    return this.island;
  }

  /** Whether a datagram between these nodes is lost to the partition. */
  cut(a: string, b: string): boolean {
    return this.island !== null && this.island.has(a) !== this.island.has(b);
  }
}
