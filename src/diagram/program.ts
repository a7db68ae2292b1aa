// The diagram program (cli.ts runs it): arguments, reading, merging, writing. Kept apart from
// cli.ts so that tests call it without starting a process.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readLogs, LogError } from './read.js';
import { merge, type Merged } from './merge.js';
import { htmlPage } from './html.js';
import { shivizLog } from './shiviz.js';
import { perfettoTrace } from './perfetto.js';

export const USAGE = `usage: npm run diagram -- [--out FILE.html] [--shiviz FILE] [--perfetto FILE] [--title TEXT] LOG...
  Merges the event logs written by dht-manager and dht-peer with --log FILE (one per process,
  from any number of hosts; their clocks need not agree) and writes:
    --out FILE.html   a self-contained HTML page with the time-space diagram (default: diagram.html
                      when no output is named)
    --shiviz FILE     a log for ShiViz (https://bestchai.bitbucket.io/shiviz/): open it with "upload"
    --perfetto FILE   Chrome trace-event JSON for https://ui.perfetto.dev or chrome://tracing
  Lines that are not log lines are skipped and counted. Exit status: 0 done, 1 unreadable log, 2 bad arguments.`;

class UsageError extends Error {}

interface Args { out?: string; shiviz?: string; perfetto?: string; title?: string; logs: string[] }

export function parse(argv: string[]): Args | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { out: { type: 'string' }, shiviz: { type: 'string' }, perfetto: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '.'));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length === 0) throw new UsageError('no LOG file given');
  const args: Args = { logs: parsed.positionals };
  for (const k of ['out', 'shiviz', 'perfetto', 'title'] as const) {
    const value = v[k];
    if (value === '') throw new UsageError(`--${k} needs a value`);
    if (value !== undefined) args[k] = value;
  }
  if (!args.out && !args.shiviz && !args.perfetto) args.out = 'diagram.html';
  return args;
}

/** Reads, merges and writes; returns the lines to print (warnings first, then what was written). */
export function run(args: Args): { merged: Merged; lines: string[] } {
  const { procs, skipped } = readLogs(args.logs);
  const lines: string[] = [];
  for (const [file, n] of skipped) lines.push(`warning: ${file}: skipped ${n} line${n === 1 ? '' : 's'} that are not event-log lines`);
  const merged = merge(procs);
  const s = merged.stats;
  lines.push(`${procs.length} processes, ${s.events} events, ${s.sends} messages sent: ${s.matched} received, ${s.lost} lost, ` +
    `${s.unmatched} from senders without a log, ${s.duplicates} network duplicates`);
  const write = (file: string, text: string, what: string): void => {
    try {
      writeFileSync(file, text);
    } catch (err) {
      throw new LogError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    lines.push(`wrote ${what} to ${file}`);
  };
  if (args.out) write(args.out, htmlPage(merged, args.title), 'the diagram');
  if (args.shiviz) write(args.shiviz, shivizLog(merged), 'the ShiViz log');
  if (args.perfetto) write(args.perfetto, perfettoTrace(merged), 'the Perfetto trace');
  return { merged, lines };
}

/** The whole program; returns the exit status. */
export function main(argv: string[]): number {
  try {
    const args = parse(argv);
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    for (const line of run(args).lines) process.stderr.write(`${line}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`diagram: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    const text = err instanceof Error ? err.message : String(err);
    process.stderr.write(`diagram: ${text.split('\n')[0]}\n`);
    return 1;
  }
}
