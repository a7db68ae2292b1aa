// `--log FILE` and `--log-max-mb N`, shared by both programs: the process's event log
// (eventlog/, docs/DIAGRAMS.md), told of every event by the interpreter.
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { EventLog } from '../eventlog/writer.js';
import { DEFAULT_LOG_MAX_MB } from '../eventlog/version.js';
import { UsageError, intOption } from './usage.js';

export const LOG_OPTIONS = {
  log: { type: 'string' },
  'log-max-mb': { type: 'string' },
} as const;

export const LOG_USAGE = `  --log FILE              append an event log (one JSON object a line) for npm run diagram
  --log-max-mb N          stop logging after N MB (default ${DEFAULT_LOG_MAX_MB})`;

/** The event log the options ask for, or undefined; a file that cannot be opened is a usage error. */
export function eventLogFromOptions(values: { log?: string; 'log-max-mb'?: string }, proc?: string): EventLog | undefined {
  const maxMb = intOption('log-max-mb', values['log-max-mb'], 1, 100_000) ?? DEFAULT_LOG_MAX_MB;
  if (values.log === undefined) return undefined;
  const file = resolve(values.log);
  try {
    return new EventLog({ file, now: performance.now(), maxBytes: maxMb * 1024 * 1024, fallbackProc: `peer-${process.pid}`, ...(proc ? { proc } : {}) });
  } catch (err) {
    throw new UsageError(`--log ${values.log.slice(0, 60)}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}
