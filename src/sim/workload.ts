// The random workload (after TigerBeetle's VOPR): a person at each console types valid and invalid
// commands — typos, wrong names, commands in the wrong state, queries for present and absent ids,
// setup/leave/join/teardown/deregister/re-register — waiting for the answer as a person would
// (mostly; sometimes typing ahead, which the console queues). A process that exited is started
// again by its person. Every choice comes from the seeded stream.
import type { Checker } from './checker.js';
import type { Nemesis } from './faults.js';
import { CheckFailure, KNOWN } from './checker.js';
import type { World } from './world.js';

export interface WorkloadOptions {
  steps: number;
  /** The year whose data the peers hold. */
  year: number;
  /** Largest DHT size asked for (the manager refuses what it cannot build). */
  maxN: number;
}

/** How long a person thinks between two commands, and how long they wait for an answer. */
const THINK_MS = 200;
const PATIENCE_MS = 30_000;
/** When everything is over: how long consoles may take to finish what they were given. */
const DRAIN_MS = 180_000;
/** Quiet time before the final comparison: longer than a sender's whole retry budget. */
const SETTLE_MS = 30_000;
/** New ports for a person whose old ones are still registered (the nodes start at 5000). */
const FRESH_PORTS = 20_000;

type Weighted = readonly [number, () => string | string[]];

export class RandomWorkload {
  typed = 0;
  /** The name each node's person registers with: a new one after the old is refused as a duplicate. */
  private readonly aliases = new Map<string, string>();
  private renamed = 0;
  /** The ports each node's person registers with, once the first ones were refused. */
  private readonly ports = new Map<string, [number, number]>();

  constructor(
    private readonly world: World,
    private readonly checker: Checker,
    private readonly nemesis: Nemesis,
    private readonly random: () => number,
    private readonly ids: readonly number[],
    private readonly opts: WorkloadOptions,
  ) {}

  run(): void {
    // Bounded by --steps; each step's waits are bounded in virtual time.
    for (let step = 0; step < this.opts.steps; step++) {
      this.world.settle(this.random() * THINK_MS);
      this.nemesis.step();
      this.act();
      this.checker.checkManager();
      this.checker.checkReplicas();
    }
    this.finish();
  }

  private act(): void {
    const names = [...this.world.peers.keys()];
    if (this.random() < 0.08) return this.manager();
    const name = names[Math.floor(this.random() * names.length)]!;
    if (!this.world.isAlive(name)) {
      // Its person starts the program again (unless the nemesis holds it down for now).
      if (!this.nemesis.isDown(name)) {
        // After a deregister the peer left cleanly: starting it again disturbs nobody.
        const clean = this.world.peer(name).prints.at(-1)?.startsWith('deregister: SUCCESS') === true;
        this.world.restart(name);
        if (!clean) this.checker.disturbed(name, true);
      }
      return;
    }
    const peer = this.world.peer(name);
    if (this.react(name)) return;
    // A person mostly waits for the answer before typing again; sometimes types ahead.
    if (!peer.core.idle && this.random() < 0.85) this.world.runUntil(() => peer.core.idle || !this.world.isAlive(name), PATIENCE_MS);
    if (!this.world.isAlive(name)) return;
    const lines = this.command(name);
    for (const line of Array.isArray(lines) ? lines : [lines]) {
      if (line === 'quit') this.checker.disturbed(name, false);
      this.world.type(name, line);
    }
    this.typed += 1;
  }

  /**
   * What a person does about the last answer: a refused name (the manager still has it, e.g.
   * after a crash) → pick another name; a manager that no longer knows this peer (it restarted)
   * → start the program again. True if the person restarted the program.
   */
  private react(node: string): boolean {
    const peer = this.world.peer(node);
    const recent = peer.prints.slice(-3);
    const refused = recent.some((l) => /^register: (FAILURE DUPLICATE_NAME|FAILURE PORT_IN_USE|cannot use those ports)/.test(l));
    if (peer.core.me === null && refused && this.random() < 0.7) {
      // The manager still holds the old name and ports (e.g. after a crash): take new ones.
      this.renamed += 1;
      this.aliases.set(node, `${node}r${this.renamed}`);
      this.ports.set(node, [FRESH_PORTS + 2 * this.renamed, FRESH_PORTS + 2 * this.renamed + 1]);
    } else if (peer.core.me !== null && recent.some((l) => l.includes(': FAILURE NOT_REGISTERED')) && this.random() < 0.7) {
      this.world.restart(node);
      this.checker.disturbed(node, true);
      return true;
    }
    return false;
  }

  private manager(): void {
    if (!this.world.managerAlive) {
      // It was quit at its console: its operator starts it again, on its saved state.
      if (!this.nemesis.isDown('manager')) {
        const before = this.checker.registered();
        this.world.restart('manager');
        this.checker.disturbed('manager', true);
        this.checker.managerRestarted(before);
      }
      return;
    }
    const line = this.pick([[5, () => 'status'], [2, () => 'help'], [2, () => 'stauts'], [1, () => ''], [0.3, () => 'quit']]);
    if (line === 'quit') this.checker.disturbed('manager', false);
    this.world.type('manager', line);
  }

  /** One console line (or two: query-dht without an id, then the id) for this peer's person. */
  private command(node: string): string | string[] {
    const peer = this.world.peer(node);
    const name = this.aliases.get(node) ?? node;
    const [mport, pport] = this.ports.get(node) ?? [peer.m.port, peer.p.port];
    const me = `127.0.0.1 ${mport} ${pport}`;
    const other = (): string => this.other(node);
    const year = (): string => this.pick([[8, () => String(this.opts.year)], [1, () => '1950'], [1, () => '2031'], [0.5, () => '19x6']]);
    // Mostly a size the manager can build; now and then one it must refuse.
    const n = (): string => String(this.random() < 0.8 ? 3 + Math.floor(this.random() * Math.max(1, this.opts.maxN - 2)) : Math.floor(this.random() * (this.world.peers.size + 2)));
    // The generator knows what state the system is in and favours the commands that move it on.
    const noDht = this.world.managerAlive && this.world.manager.dht === null;
    const ready = this.world.managerAlive && this.world.manager.dht?.phase === 'ready';
    const id = (): string => (this.random() < 0.75 && this.ids.length > 0 ? String(this.ids[Math.floor(this.random() * this.ids.length)]) : String(Math.floor(this.random() * 1e7)));
    const registering: Weighted[] = [
      [14, () => `register ${name} ${me}`],
      [0.3, () => `register ${other()} ${me}`],
      [1, () => `register ${name} 127.0.0.1 ${this.otherPeer(node).m.port} ${peer.p.port}`],
      [1, () => `register ${name} 127.0.0.256 ${peer.m.port} ${peer.p.port}`],
      [1, () => `register ${name} 127.0.0.1 ${peer.m.port} ${peer.m.port}`],
      [1, () => `regster ${name} ${me}`],
      [1, () => `query-dht ${name} ${id()}`],
    ];
    if (peer.core.me === null) return this.pick(registering);
    return this.pick<string | string[]>([
      [ready && peer.core.ring === null ? 50 : 8, () => `query-dht ${name} ${id()}`],
      [4, () => [`query-dht ${name}`, this.random() < 0.8 ? id() : 'twelve']],
      [noDht ? 40 : 4, () => `setup-dht ${name} ${n()} ${year()}`],
      [8, () => `leave-dht ${name}`],
      [8, () => `join-dht ${name}`],
      [6, () => `teardown-dht ${name}`],
      [3, () => `deregister ${name}`],
      [3, () => `query-dht ${other()} ${id()}`],
      [2, () => `leave-dht ${other()}`],
      [1, () => `teardown-dht ${other()}`],
      [2, () => `qeury-dht ${name} ${id()}`],
      [1, () => `setup-dht ${name}`],
      [1, () => `join-dht ${name} now`],
      [1, () => `query-dht ${name} -5`],
      [1, () => ''],
      [2, () => 'status'],
      [1, () => 'help'],
      [1, () => `dht-complete ${name}`],
      [0.5, () => `teardown-complete ${name}`],
      [0.5, () => `dht-rebuilt ${name} ${other()}`],
      [0.5, () => `dht-abort ${name}`],
      [1, () => `register ${name} ${me}`],
      [0.3, () => 'quit'],
    ]);
  }

  /** Another node (or this one if alone). */
  private otherPeer(node: string) {
    const nodes = [...this.world.peers.keys()].filter((n) => n !== node);
    return this.world.peer(nodes.length === 0 ? node : nodes[Math.floor(this.random() * nodes.length)]!);
  }

  /** Another person's name, or now and then a name nobody has. */
  private other(node: string): string {
    if (this.world.peers.size < 2 || this.random() < 0.15) return 'nobody7';
    const p = this.otherPeer(node);
    return this.aliases.get(p.name) ?? p.name;
  }

  private pick<T>(table: readonly (readonly [number, () => T])[]): T {
    const total = table.reduce((s, [w]) => s + w, 0);
    let r = this.random() * total;
    for (const [w, make] of table) {
      r -= w;
      if (r < 0) return make();
    }
    return table[table.length - 1]![1]();
  }

  /** Heal, restart what the nemesis holds down, and give every console time to finish. */
  private finish(): void {
    this.nemesis.healAll();
    const busy = (): string[] => [...this.world.peers.values()].filter((p) => p.exitCode === null && !p.core.idle).map((p) => p.name);
    this.world.runUntil(() => busy().length === 0, DRAIN_MS);
    const left = busy();
    if (left.length > 0) {
      // With nothing crashed, quit, restarted or cut off, every operation ends (each wait is bounded).
      if (this.checker.pristine) throw new CheckFailure(`consoles still busy ${DRAIN_MS / 1000} s after the last command, with no crash, quit or partition: ${left.join(', ')}`);
      this.checker.count(KNOWN.busyAtEnd, left.length);
    }
    // Let the last retransmissions and `dissolved` notices arrive before comparing views.
    this.world.settle(SETTLE_MS);
    this.checker.checkManager();
    this.checker.checkReplicas();
    this.checker.checkAgreement();
  }
}
