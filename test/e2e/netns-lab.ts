// Hosts for end-to-end tests: Linux network namespaces joined by a bridge, each with its own
// address, and optionally nftables rules that drop a share of the UDP datagrams arriving at each
// host (the kernel's own loss, not our --chaos). Everything lives inside namespaces named
// `<prefix>-…`: nothing is created in the root namespace, and destroy() removes it all.
//
// Layout: <prefix>-br holds the bridge; <prefix>-m the manager (10.77.R.1/24); <prefix>-p1 … pK
// the peers (10.77.R.11 …); the peers go round-robin over the peer hosts.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type { Command, System } from '../../src/scenario/system.js';

export interface Result { ok: boolean; out: string; err: string }

function run(cmd: string, args: string[]): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  const err = r.error ? r.error.message : (r.stderr ?? '').trim();
  return { ok: !r.error && r.status === 0, out: r.stdout ?? '', err };
}

export const ip = (args: string[]): Result => run('ip', args);

function must(args: string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

function netnsNames(): string[] {
  // `ip netns list` prints `name` or `name (id: N)`.
  return ip(['netns', 'list']).out.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

/** nft rules that drop `percent` % of the UDP datagrams arriving at a host (input hook). */
export function lossRules(percent: number): string {
  return [
    'add table inet rdhtloss',
    "add chain inet rdhtloss in { type filter hook input priority 0; }",
    `add rule inet rdhtloss in meta l4proto udp numgen random mod 100 < ${percent} counter drop`,
  ].join('\n');
}

/**
 * Why namespaces (and, with `nft`, nftables inside them) cannot be used here, or null: not Linux,
 * not root, no `ip` (or `nft`), or the kernel refuses namespaces, bridges, veths or the rules.
 */
export function unavailable(nft: boolean): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const v = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) return "the 'ip' command (iproute2) is missing: apt-get install iproute2";
  if (nft) {
    const n = spawnSync('nft', ['--version'], { encoding: 'utf8' });
    if (n.error || n.status !== 0) return "the 'nft' command (nftables) is missing: apt-get install nftables";
  }
  const probe = `rdht-${randomBytes(3).toString('hex')}-x`;
  const add = ip(['netns', 'add', probe]);
  if (!add.ok) {
    ip(['netns', 'del', probe]); // in case it got half way
    return `'ip netns add' does not work here: ${add.err}`;
  }
  try {
    const bridge = ip(['-n', probe, 'link', 'add', 'probe-br', 'type', 'bridge']);
    if (!bridge.ok) return `cannot create a bridge in a namespace: ${bridge.err}`;
    const veth = ip(['-n', probe, 'link', 'add', 'probe-a', 'type', 'veth', 'peer', 'name', 'probe-b']);
    if (!veth.ok) return `cannot create a veth pair in a namespace: ${veth.err}`;
    const exec = spawnSync('ip', ['netns', 'exec', probe, process.execPath, '-e', ''], { encoding: 'utf8' });
    if (exec.error || exec.status !== 0) return `'ip netns exec' does not work here: ${exec.error?.message ?? exec.stderr.trim()}`;
    if (nft) {
      const rules = spawnSync('ip', ['netns', 'exec', probe, 'nft', '-f', '-'], { input: lossRules(30), encoding: 'utf8' });
      if (rules.error || rules.status !== 0) return `nftables rules cannot be loaded in a namespace: ${rules.error?.message ?? rules.stderr.trim()}`;
    }
    return null;
  } finally {
    ip(['netns', 'del', probe]);
  }
}

/** A manager host and `peerHosts` peer hosts on one bridge. */
export class Lab {
  readonly prefix = `rdht-${randomBytes(2).toString('hex')}`;
  readonly subnet = `10.77.${randomInt(256)}`;
  readonly hosts: string[];
  readonly bridgeNs = `${this.prefix}-br`;

  constructor(private readonly peers: readonly string[], private readonly peerHosts: number) {
    this.hosts = ['m', ...Array.from({ length: peerHosts }, (_, i) => `p${i + 1}`)];
  }

  ns(host: string): string { return `${this.prefix}-${host}`; }
  ip(host: string): string { return host === 'm' ? `${this.subnet}.1` : `${this.subnet}.${10 + Number(host.slice(1))}`; }
  hostOf(name: string): string { return name === 'manager' ? 'm' : `p${(this.peers.indexOf(name) % this.peerHosts) + 1}`; }

  create(): void {
    const all = [this.bridgeNs, ...this.hosts.map((h) => this.ns(h))];
    const taken = all.filter((n) => netnsNames().includes(n));
    if (taken.length) throw new Error(`namespaces already exist: ${taken.join(', ')} (another run with the same random prefix?)`);
    for (const ns of all) {
      must(['netns', 'add', ns]);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const br = `${this.prefix}-br`;
    must(['-n', this.bridgeNs, 'link', 'add', br, 'type', 'bridge']);
    must(['-n', this.bridgeNs, 'link', 'set', br, 'up']);
    for (const h of this.hosts) {
      const dev = `${this.prefix}-${h}`; // ≤ 15 characters: rdht-xxxx-p1b is 13
      // Both ends are created directly in namespaces: nothing ever appears in the root namespace.
      must(['-n', this.ns(h), 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}b`, 'netns', this.bridgeNs]);
      must(['-n', this.bridgeNs, 'link', 'set', `${dev}b`, 'master', br, 'up']);
      must(['-n', this.ns(h), 'addr', 'add', `${this.ip(h)}/24`, 'dev', dev]);
      must(['-n', this.ns(h), 'link', 'set', dev, 'up']);
    }
  }

  /** Every host drops `percent` % of the UDP datagrams it receives (nftables, input hook). */
  dropUdp(percent: number): void {
    for (const h of this.hosts) {
      const r = spawnSync('ip', ['netns', 'exec', this.ns(h), 'nft', '-f', '-'], { input: lossRules(percent), encoding: 'utf8', timeout: 15_000 });
      if (r.error || r.status !== 0) throw new Error(`nft in ${this.ns(h)} failed: ${r.error?.message ?? r.stderr.trim()}`);
    }
  }

  /** Datagrams each host's rule dropped so far (from the rule's counter). */
  dropped(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const h of this.hosts) {
      const out = run('ip', ['netns', 'exec', this.ns(h), 'nft', 'list', 'chain', 'inet', 'rdhtloss', 'in']).out;
      counts.set(h, Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0));
    }
    return counts;
  }

  /** Wrap a command so that it runs on the host of `name` (the manager or a peer). */
  launcher = (name: string, c: Command): Command => ({ cmd: 'ip', args: ['netns', 'exec', this.ns(this.hostOf(name)), c.cmd, ...c.args] });

  /**
   * Stop every process of the given systems (SIGTERM, then SIGKILL if one lingers), SIGKILL
   * anything else still running in our namespaces (only processes this test started can be
   * there), then delete the namespaces: that destroys their veth ends, rules and the bridge.
   * Returns the errors of `ip netns del`.
   */
  async destroy(systems: System[]): Promise<string[]> {
    const procs = systems.flatMap((s) => s.all());
    for (const p of procs) p.kill();
    const grace = setTimeout(() => { for (const p of procs) p.kill('SIGKILL'); }, 5_000);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(grace);
    const ours = netnsNames().filter((n) => n.startsWith(`${this.prefix}-`));
    for (const ns of ours) {
      for (const pid of ip(['netns', 'pids', ns]).out.split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    return ours.map((ns) => ip(['netns', 'del', ns])).filter((r) => !r.ok).map((r) => r.err);
  }

  /** Anything of ours still present: namespaces, root-namespace links, or addresses of our subnet. */
  leftovers(): string[] {
    const left = netnsNames().filter((n) => n.startsWith(`${this.prefix}-`)).map((n) => `namespace ${n}`);
    for (const line of ip(['-o', 'link', 'show']).out.split('\n')) if (line.includes(this.prefix)) left.push(`link ${line.trim()}`);
    for (const line of ip(['-o', '-4', 'addr', 'show']).out.split('\n')) if (line.includes(` ${this.subnet}.`)) left.push(`address ${line.trim()}`);
    return left;
  }
}
