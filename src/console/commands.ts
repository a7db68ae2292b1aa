// The console languages of both programs: which commands exist, their arguments, their usage
// lines, and the syntax checks a person gets immediate help from. The manager re-checks every
// argument itself (a datagram need not come from our console).
import { MAX_RING } from '../protocol/limits.js';
import { MANAGER_REQUESTS, REQUESTS, type ManagerRequest } from '../protocol/requests.js';

export interface CommandSpec {
  args: readonly string[];
  /** Trailing arguments that may be left out. */
  optional?: readonly string[];
  help: string;
  /** Sent to the manager as a request (the ten commands of the specification, plus dht-abort). */
  toManager: boolean;
}

function requestCommands(): Record<ManagerRequest, CommandSpec> {
  const out = {} as Record<ManagerRequest, CommandSpec>;
  for (const req of MANAGER_REQUESTS) out[req] = { ...REQUESTS[req], toManager: true };
  return out;
}

/** Commands a peer runs itself, without the manager. */
export type LocalCommand = 'help' | 'status' | 'quit';
export type PeerCommand = ManagerRequest | LocalCommand;

/** The peer console: every manager request (protocol/requests.ts) plus the local commands. */
export const PEER_COMMANDS: Readonly<Record<PeerCommand, CommandSpec>> = {
  ...requestCommands(),
  help: { args: [], help: 'list the commands', toManager: false },
  status: { args: [], help: 'show name, state, id, ring size, right neighbour and records held', toManager: false },
  quit: { args: [], help: 'exit this peer at once (without deregistering)', toManager: false },
};

export const MANAGER_COMMANDS: Readonly<Record<string, CommandSpec>> = {
  status: { args: [], help: 'show the peer table and the DHT state', toManager: false },
  help: { args: [], help: 'list the commands', toManager: false },
  quit: { args: [], help: 'stop the manager', toManager: false },
};

export type Parsed<K extends string = string> =
  | { kind: 'empty' }
  | { kind: 'command'; cmd: K; args: string[] }
  | { kind: 'error'; text: string };

export function usage(cmd: string, spec: CommandSpec): string {
  const opt = (spec.optional ?? []).map((a) => ` [${a}]`).join('');
  return `${cmd}${spec.args.map((a) => ` <${a}>`).join('')}${opt}`;
}

export function helpText(table: Readonly<Record<string, CommandSpec>>): string[] {
  const rows = Object.entries(table).map(([cmd, spec]) => [usage(cmd, spec), spec.help] as const);
  const width = Math.max(...rows.map(([u]) => u.length));
  return ['commands:', ...rows.map(([u, h]) => `  ${u.padEnd(width)}  ${h}`)];
}

/** Split a console line into a known command and its words, or explain what is wrong in one line. */
export function parseLine<K extends string>(line: string, table: Readonly<Record<K, CommandSpec>>): Parsed<K> {
  const words = line.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return { kind: 'empty' };
  const [cmd, ...args] = words as [string, ...string[]];
  const known = Object.keys(table) as K[];
  const name = known.find((k) => k === cmd.toLowerCase());
  if (name === undefined) {
    const guesses = suggestions(cmd.toLowerCase(), known);
    const hint = guesses.length > 0 ? ` — did you mean ${orList(guesses.map((g) => `'${g}'`))}?` : '';
    return { kind: 'error', text: `unknown command '${cmd.slice(0, 30)}'${hint} (type help for the list)` };
  }
  const spec: CommandSpec = table[name];
  const min = spec.args.length;
  const max = min + (spec.optional?.length ?? 0);
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} or ${max}`;
    return { kind: 'error', text: `${name}: expected ${want} argument${max === 1 ? '' : 's'}, got ${args.length} — usage: ${usage(name, spec)}` };
  }
  const problem = checkArgs(name, args);
  if (problem) return { kind: 'error', text: `${name}: ${problem} — usage: ${usage(name, spec)}` };
  return { kind: 'command', cmd: name, args };
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9]{0,14}$/;

export function isPeerName(s: string): boolean {
  return NAME_RE.test(s);
}

/** Dotted-decimal IPv4 (or 'localhost'), normalised; null if malformed. */
export function parseIpv4(s: string): string | null {
  if (s === 'localhost') return '127.0.0.1';
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
  }
  return parts.map(Number).join('.');
}

export function parsePort(s: string): number | null {
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

export function parseCount(s: string, max = 1e9): number | null {
  if (!/^\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

export function parseEventId(s: string): number | null {
  if (!/^\d{1,15}$/.test(s)) return null;
  return Number(s);
}

export const MIN_YEAR = 1950;
export const MAX_YEAR = 2019;

export function parseYear(s: string): number | null {
  if (!/^\d{4}$/.test(s)) return null;
  const y = Number(s);
  return y >= MIN_YEAR && y <= MAX_YEAR ? y : null;
}

/** Syntax of each argument; the same checks the manager applies, so a typo is caught before sending. */
export function checkArgs(cmd: string, args: string[]): string | null {
  const spec: CommandSpec | undefined = (PEER_COMMANDS as Readonly<Record<string, CommandSpec>>)[cmd];
  for (const [i, a] of args.entries()) {
    const role = (spec?.args ?? [])[i] ?? spec?.optional?.[0];
    if ((role === 'peer-name' || role === 'new-leader') && !isPeerName(a)) {
      return `'${a.slice(0, 30)}' is not a peer name (1–15 letters or digits, starting with a letter)`;
    }
    if (role === 'IPv4' && parseIpv4(a) === null) return `'${a.slice(0, 30)}' is not a dotted-decimal IPv4 address`;
    if ((role === 'm-port' || role === 'p-port') && parsePort(a) === null) return `${role} '${a.slice(0, 30)}' is not a port 1–65535`;
    if (role === 'n' && parseCount(a, 1e6) === null) return `n '${a.slice(0, 30)}' is not a whole number`;
    if (role === 'n' && parseCount(a, MAX_RING) === null) return `n '${a}' is larger than the largest ring (${MAX_RING})`;
    if (role === 'YYYY' && parseYear(a) === null) return `year '${a.slice(0, 30)}' is not between ${MIN_YEAR} and ${MAX_YEAR}`;
    if (role === 'event-id' && parseEventId(a) === null) return `event id '${a.slice(0, 30)}' is not a whole number`;
  }
  if (cmd === 'register' && args.length === 4 && parsePort(args[2]) === parsePort(args[3])) return 'm-port and p-port must differ';
  return null;
}

/**
 * What a mistyped command may have meant: the commands it begins (`query` → `query-dht`), else
 * the one within edit distance 2 (`regster` → `register`), else nothing.
 */
function suggestions(word: string, known: string[]): string[] {
  const MAX_SUGGESTIONS = 3;
  const prefixed = word.length >= 3 ? known.filter((k) => k.startsWith(word)) : [];
  if (prefixed.length > 0) return prefixed.slice(0, MAX_SUGGESTIONS);
  const near = closest(word, known);
  return near === null ? [] : [near];
}

/** 'a', 'a or b', 'a, b or c'. */
function orList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The known word within edit distance 2 of a typo, if any. */
function closest(word: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
