// `npm start`: the acceptance scenario of SPEC §6 with real processes on loopback, typed and
// read back as a person would, with every process's console shown and a summary at the end.
import { parseArgs } from 'node:util';
import { relative, resolve, isAbsolute } from 'node:path';
import { LineWriter } from '../net/lines.js';
import { UsageError, runProgram, traceOption, usageErrors } from '../net/usage.js';
import { runFull, runMilestone, type FullFacts, type ScenarioFacts } from './scenarios.js';
import { prepareLogDir, writeDiagram, type DiagramResult } from './diagram.js';

const USAGE = `usage: npm start -- [options]
  --scenario NAME   full (default: 6 peers, 1996, queries, leave, join, teardown) or milestone (3 peers, 1950)
  --data-dir DIR    where details-YYYY.csv is (default: $DHT_DATA_DIR, else ./data if it exists, else
                    ../shared/data beside the checkout if it exists; the same rule as dht-peer's).
                    A default directory without the year's file: a synthetic dataset is generated
                    and announced
  --trace MODE      summary (default), full or off: the trace the processes print
  --quiet           print only the summary, not every process's console
  --log-dir DIR     every process writes its event log DIR/<process>.jsonl (--log), and at the end
                    the time-space diagram DIR/diagram.html is made from them (default run/;
                    earlier logs of the scenario's processes there are replaced)
  --no-log          no event logs, no diagram
  --help            show this text`;

const OPTIONS = {
  scenario: { type: 'string' },
  'data-dir': { type: 'string' },
  trace: { type: 'string' },
  quiet: { type: 'boolean' },
  'log-dir': { type: 'string' },
  'no-log': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) return void process.stdout.write(USAGE + '\n');
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]!.slice(0, 30)}'`);
  const scenario = values.scenario ?? 'full';
  if (scenario !== 'full' && scenario !== 'milestone') throw new UsageError(`--scenario must be full or milestone, got '${scenario.slice(0, 30)}'`);
  if (values['no-log'] && values['log-dir'] !== undefined) throw new UsageError('--no-log and --log-dir exclude each other');
  if (values['log-dir'] === '') throw new UsageError('--log-dir needs a directory');
  const logDir = values['no-log'] ? undefined : resolve(values['log-dir'] ?? 'run');
  if (logDir !== undefined) prepareLogDir(logDir);
  const writer = new LineWriter(process.stdout);
  const options = {
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(logDir !== undefined ? { logDir } : {}),
    trace: traceOption(values.trace), echo: !values.quiet, writer, log: (line: string) => writer.line(line),
  };
  // The diagram is made whether the scenario passed or failed: a failed run's is the one wanted.
  const diagram = (): string | undefined => (logDir === undefined ? undefined : diagramLine(logDir, `npm start -- --scenario ${scenario}`));
  try {
    const facts = scenario === 'full' ? await runFull(options) : await runMilestone(options);
    summary(facts, writer, diagram());
    writer.drain(() => process.exit(facts.ok ? 0 : 1));
  } catch (err) {
    writer.line(`scenario FAILED: ${err instanceof Error ? err.message : String(err)}`);
    const line = diagram();
    if (line) writer.line(line);
    writer.drain(() => process.exit(1));
  }
}

/** The summary's line about the diagram (written now), or why there is none. */
function diagramLine(dir: string, title: string): string {
  let d: DiagramResult | null;
  try {
    d = writeDiagram(dir, title);
  } catch (err) {
    return `diagram: not written: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  if (d === null) return `diagram: no event log in ${shown(dir)}`;
  return `diagram: ${shown(d.file)} (${d.processes} processes, ${d.stats.sends} messages; event logs ${shown(dir)}/*.jsonl; ` +
    `for ShiViz or Perfetto: npm run diagram -- --shiviz F --perfetto F ${shown(dir)}/*.jsonl)`;
}

/** A path relative to the current directory when it lies inside it. */
function shown(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

function summary(f: ScenarioFacts | FullFacts, w: LineWriter, diagram: string | undefined): void {
  const counts = (c: number[]): string => `[${c.join(', ')}] (sum ${c.reduce((a, b) => a + b, 0)})`;
  w.line('');
  w.line('================ summary ================');
  w.line(`data: ${f.data.synthetic ? 'SYNTHETIC ' : ''}details-${f.data.year} in ${f.data.dir}: ℓ = ${f.data.recordCount}, s = ${f.data.s}`);
  w.line(`after setup (leader ${f.setup.leader}): ${counts(f.setup.counts)}`);
  if ('queries' in f) {
    w.line(`after ${f.leaver} left (leader ${f.afterLeave.leader}): ${counts(f.afterLeave.counts)}`);
    w.line(`after ${f.free} joined (leader ${f.afterJoin.leader}): ${counts(f.afterJoin.counts)}`);
    for (const q of f.queries) w.line(`query ${q.eventId} by ${q.asker}: ${q.found ? 'found' : 'not found'} (id-seq ${q.idSeq.join(', ')})`);
  }
  w.line(`exit codes: ${Object.entries(f.exitCodes).map(([n, c]) => `${n}=${c}`).join(' ')}`);
  const failed = f.checks.filter((c) => !c.ok);
  w.line(`checks: ${f.checks.length - failed.length}/${f.checks.length} passed${failed.length ? `; FAILED: ${failed.map((c) => c.what).join('; ')}` : ''}`);
  w.line(`total time: ${(f.elapsedMs / 1000).toFixed(1)} s`);
  if (diagram) w.line(diagram);
  w.line(f.ok ? 'RESULT: PASS' : 'RESULT: FAIL');
}

runProgram('npm start', USAGE, main);
