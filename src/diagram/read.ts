// Reading event logs (src/eventlog/format.ts). A log may hold several runs of a process (a
// restart appends a new header); each run becomes its own lifeline. Lines that are not valid
// JSON or do not fit the format are skipped and counted, never fatal: a log cut short by kill -9
// ends in half a line.
import { readFileSync, statSync } from 'node:fs';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { LogLine, LOG_VERSION, type Header, type LogEvent } from '../eventlog/format.js';

/** One run of one process: its header and its events in program order. */
export interface ProcessLog {
  name: string;
  header: Header;
  file: string;
  events: LogEvent[];
}

export interface ReadResult {
  procs: ProcessLog[];
  /** Lines skipped per file, for the one-line warnings. */
  skipped: Map<string, number>;
}

/** Larger files are refused: the writer bounds its logs far below this. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;
const CHECK = TypeCompiler.Compile(LogLine);

export class LogError extends Error {}

export function readLogs(files: readonly string[]): ReadResult {
  return readTexts(files.map((file) => ({ file, text: readText(file) })));
}

/** Logs already in memory (the simulation's, sim/logs.ts), each under the name of its file. */
export function readTexts(logs: readonly { file: string; text: string }[]): ReadResult {
  const procs: ProcessLog[] = [];
  const skipped = new Map<string, number>();
  for (const { file, text } of logs) {
    const { runs, bad } = parseLog(file, text);
    if (bad > 0) skipped.set(file, bad);
    procs.push(...runs);
  }
  nameRuns(procs);
  return { procs, skipped };
}

function readText(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new LogError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_FILE_BYTES) throw new LogError(`${file} is ${size} bytes; logs over ${MAX_FILE_BYTES} bytes are refused`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new LogError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The runs in one file's text; lines before the first header belong to no run and are skipped. */
export function parseLog(file: string, text: string): { runs: ProcessLog[]; bad: number } {
  const runs: ProcessLog[] = [];
  let bad = 0;
  let current: ProcessLog | null = null;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = parseLine(raw);
    if (line === null) {
      bad += 1;
      continue;
    }
    if (line.k === 'header') {
      current = { name: line.proc, header: line, file, events: [] };
      runs.push(current);
    } else if (current === null) bad += 1;
    else current.events.push(line);
  }
  if (runs.length === 0) throw new LogError(`${file} is not an event log: no header line (written by --log)`);
  return { runs, bad };
}

function parseLine(raw: string): LogLine | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value === 'object' && value !== null && (value as { k?: unknown }).k === 'header' && (value as { v?: unknown }).v !== LOG_VERSION) {
    throw new LogError(`event log format version ${String((value as { v?: unknown }).v)} is not supported (this tool reads version ${LOG_VERSION})`);
  }
  return CHECK.Check(value) ? value : null;
}

/** Two runs with one name (a restart, or two hosts both called peer1) get `#2`, `#3`, … */
function nameRuns(procs: ProcessLog[]): void {
  const seen = new Map<string, number>();
  for (const p of procs) {
    const n = (seen.get(p.name) ?? 0) + 1;
    seen.set(p.name, n);
    if (n > 1) p.name = `${p.name}#${n}`;
  }
}
