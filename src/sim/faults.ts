// The nemesis of the random workload: crashes and restarts any process (the manager too), and
// cuts the network into two sides for a while. Every choice comes from the seeded stream.
import type { Checker } from './checker.js';
import type { World } from './world.js';

export interface FaultOptions {
  /** Chance per workload step that a running process crashes (it restarts 0.2–15 s later). */
  crash: number;
  /** Chance per workload step that, if none is in force, a partition starts (healed 0.1–8 s later). */
  partition: number;
}

const RESTART_MS = [200, 15_000] as const;
const PARTITION_MS = [100, 8_000] as const;

export class Nemesis {
  crashes = 0;
  partitions = 0;
  /** Processes this nemesis crashed whose restart is still to come. */
  private readonly down = new Set<string>();

  constructor(private readonly world: World, private readonly checker: Checker, private readonly random: () => number, private readonly opts: FaultOptions) {}

  isDown(node: string): boolean {
    return this.down.has(node);
  }

  step(): void {
    if (this.opts.crash > 0 && this.random() < this.opts.crash) this.crashOne();
    if (this.opts.partition > 0 && this.random() < this.opts.partition && !this.world.network.partitioned) this.cut();
  }

  private nodes(): string[] {
    return ['manager', ...this.world.peers.keys()];
  }

  private between(range: readonly [number, number]): number {
    return range[0] + this.random() * (range[1] - range[0]);
  }

  private crashOne(): void {
    const alive = this.nodes().filter((n) => this.world.isAlive(n));
    if (alive.length === 0) return;
    const victim = alive[Math.floor(this.random() * alive.length)]!;
    // The restarted manager must know every peer this one knows (it restores its saved state).
    const before = victim === 'manager' ? this.checker.registered() : null;
    this.world.kill(victim);
    this.checker.disturbed(victim, false);
    this.crashes += 1;
    this.down.add(victim);
    this.world.after(this.between(RESTART_MS), () => {
      this.down.delete(victim);
      this.world.restart(victim);
      this.checker.disturbed(victim, true);
      if (before) this.checker.managerRestarted(before);
    });
  }

  private cut(): void {
    const all = this.nodes();
    // One side of 1 … half the nodes, chosen at random; the rest is the other side.
    const size = 1 + Math.floor(this.random() * Math.floor(all.length / 2));
    const side = new Set<string>();
    for (let guard = 0; side.size < size && guard < 10 * all.length; guard++) side.add(all[Math.floor(this.random() * all.length)]!);
    this.world.network.partition(side);
    this.checker.pristine = false;
    this.partitions += 1;
    this.world.after(this.between(PARTITION_MS), () => this.world.network.heal());
  }

  /** The end: heal the network and let every pending restart happen (bounded by their schedule). */
  healAll(): void {
    this.world.network.heal();
    this.world.runUntil(() => this.down.size === 0, RESTART_MS[1] + 1);
  }
}
