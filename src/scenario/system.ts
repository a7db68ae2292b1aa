// A manager and named peers as real processes (on loopback unless told otherwise), plus the few
// things a person does with them: type a command and read the answer, read counts and query
// answers off the console.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { COLUMNS } from '../data/record.js';
import { checkoutRoot } from '../data/dirs.js';
import type { TraceMode } from '../net/usage.js';
import { freePorts, startProcess, type DrivenProcess, type DriverOptions } from './driver.js';

/** The checkout this module belongs to (the data-directory rule needs it too, so it lives there). */
export const repoRoot = checkoutRoot;

export function binPath(program: 'dht-manager' | 'dht-peer'): string {
  const bin = join(repoRoot(), 'dist', 'src', 'bin');
  if (program === 'dht-peer') return join(bin, 'dht-peer.js');
  // The manager's installed command (package.json "bin") is its one-file build, made by esbuild in
  // `npm run build`. A `tsc` alone leaves it older than the modules: refuse to run stale code.
  const bundle = join(bin, 'dht-manager.cjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(join(bin, 'dht-manager.js')).mtimeMs) {
    throw new Error(`${bundle} is missing or older than the compiled modules: run \`npm run build\` (tsc alone does not make it)`);
  }
  return bundle;
}

/** A command line: the program and its arguments. */
export interface Command { cmd: string; args: string[] }

/**
 * Where the processes run. The default is this machine, on 127.0.0.1. A launcher wraps each
 * process's command line (name: 'manager' or the peer's name), e.g. into
 * `ip netns exec <namespace> …` so that each process runs on its own (virtual) host.
 */
export interface Hosts {
  launcher?: (name: string, command: Command) => Command;
  /** The manager's IPv4 address as the peers are told it (default 127.0.0.1). */
  managerIp?: string;
  /** The IPv4 address a peer registers with and binds to (default 127.0.0.1). */
  peerIp?: (name: string) => string;
}

export interface SystemOptions extends DriverOptions, Hosts {
  dataDir: string;
  trace: TraceMode;
  /** Extra arguments for every peer (e.g. --chaos). */
  peerArgs?: string[];
  managerArgs?: string[];
  /** Every process keeps an event log `<logDir>/<name>.jsonl` (`--log`), for the diagram. */
  logDir?: string;
}

/** The event log file of a process of the system (appended to: a restart adds a header). */
export function logFile(logDir: string, name: string): string {
  return join(logDir, `${name}.jsonl`);
}

function launch(name: string, args: string[], options: SystemOptions): DrivenProcess {
  if (options.logDir !== undefined) args = [...args, '--log', logFile(options.logDir, name)];
  const command = { cmd: process.execPath, args };
  const { cmd, args: argv } = options.launcher ? options.launcher(name, command) : command;
  return startProcess(name, cmd, argv, process.env, options);
}

/** Any answer that means the step failed: a FAILURE response, an abort, a dissolved ring, a lost query. */
const FAILED = /^(\S+: FAILURE\b|dht-abort: |dissolved: |query-dht: (.*; )?no answer|query-dht: .*abandoned|register: cannot use|unknown command )|\(nothing was sent\)$| — usage: /;

/** Operations that move the whole dataset get longer than single requests. */
export const STEP_MS = 30_000;
export const BULK_MS = 120_000;

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

export class System {
  readonly peers = new Map<string, DrivenProcess>();
  private constructor(readonly manager: DrivenProcess, readonly managerPort: number, private readonly options: SystemOptions) {}

  static async start(options: SystemOptions): Promise<System> {
    if (options.logDir !== undefined) mkdirSync(options.logDir, { recursive: true });
    const [port] = await freePorts(1);
    const manager = launch('manager', [binPath('dht-manager'), String(port), '--trace', options.trace, ...(options.managerArgs ?? [])], options);
    const system = new System(manager, port!, options);
    await manager.waitFor(/^manager: listening on /, STEP_MS);
    return system;
  }

  peer(name: string): DrivenProcess {
    const p = this.peers.get(name);
    if (!p) throw new ScenarioError(`no peer named ${name}`);
    return p;
  }

  /** Start peers and register each with two fresh ports, as a person would type it. */
  async addPeers(names: string[]): Promise<void> {
    await this.addPeersWith(names, [], /^register: SUCCESS/);
  }

  /**
   * Start peers with extra arguments (beside the system's own) and type `register`, waiting for
   * the answer `expect` (e.g. a FAILURE a test provokes).
   */
  async addPeersWith(names: string[], extraArgs: string[], expect: RegExp): Promise<void> {
    const ports = await freePorts(2 * names.length);
    await Promise.all(names.map(async (name, i) => {
      const p = launch(name, [binPath('dht-peer'), this.options.managerIp ?? '127.0.0.1', String(this.managerPort),
        '--data-dir', this.options.dataDir, '--trace', this.options.trace, ...(this.options.peerArgs ?? []), ...extraArgs], this.options);
      this.peers.set(name, p);
      const ip = this.options.peerIp?.(name) ?? '127.0.0.1';
      p.send(`register ${name} ${ip} ${ports[2 * i]} ${ports[2 * i + 1]}`);
      const last = await p.waitFor(new RegExp(`${expect.source}|^register: `), STEP_MS);
      if (!expect.test(last)) throw new ScenarioError(`'register ${name}' answered: ${last}\n${p.tail()}`);
    }));
  }

  /** Every process still running, killed; used on failure so nothing is left behind. */
  killAll(): void {
    this.manager.kill();
    for (const p of this.peers.values()) p.kill();
  }

  all(): DrivenProcess[] {
    return [this.manager, ...this.peers.values()];
  }
}

/** Type a line; return the lines up to the answer. A failure answer throws with the recent output. */
export async function ask(p: DrivenProcess, line: string, success: RegExp, timeoutMs = STEP_MS): Promise<string[]> {
  p.send(line);
  const lines = await p.waitForLines(new RegExp(`${success.source}|${FAILED.source}`), timeoutMs);
  const last = lines[lines.length - 1]!;
  if (!success.test(last)) throw new ScenarioError(`'${line}' at ${p.name} failed: ${last}\n${p.tail()}`);
  return lines;
}

export interface NodeCount { id: number; name: string; count: number }

/** The leader's `node <id> <name>: <count> records` lines, in node-id order. */
export function parseCounts(lines: string[]): NodeCount[] {
  const nodes: NodeCount[] = [];
  for (const line of lines) {
    const m = /^node (\d+) ([A-Za-z][A-Za-z0-9]*): (\d+) records?$/.exec(line);
    if (m) nodes.push({ id: Number(m[1]), name: m[2]!, count: Number(m[3]) });
  }
  return nodes.sort((a, b) => a.id - b.id);
}

export interface QueryOutcome {
  asker: string;
  eventId: number;
  found: boolean;
  /** Exactly `Storm event <id> not found in the DHT.` was printed. */
  notFoundLine: boolean;
  /** Field name → printed value, for a found record. */
  fields: Record<string, string>;
  idSeq: number[];
  /** The DHT member the manager sent the query to. */
  askedNode: string;
  /** The answer as printed: the record's lines or the not-found sentence, then id-seq. */
  answer: string[];
}

/** `query-dht <name> <id>` at a Free peer, read back to its id-seq line. */
export async function query(p: DrivenProcess, eventId: number): Promise<QueryOutcome> {
  const lines = await ask(p, `query-dht ${p.name} ${eventId}`, /^id-seq: /);
  const start = lines.findIndex((l) => l.startsWith('query-dht: SUCCESS'));
  const answer = lines.slice(start + 1);
  const fields: Record<string, string> = {};
  for (const line of answer) {
    const m = /^([a-z_]+): (.*)$/.exec(line);
    if (m && (COLUMNS as readonly string[]).includes(m[1]!)) fields[m[1]!] = m[2]!;
  }
  const idSeqLine = answer[answer.length - 1]!;
  return {
    asker: p.name,
    eventId,
    found: fields['event_id'] === String(eventId),
    notFoundLine: answer.includes(`Storm event ${eventId} not found in the DHT.`),
    fields,
    idSeq: idSeqLine.slice('id-seq: '.length).split(',').map((s) => Number(s.trim())),
    askedNode: /ask (\S+)/.exec(lines[start] ?? '')?.[1] ?? '?',
    answer: answer.filter((l) => !/^[→←] /.test(l)),
  };
}

