// `npm start`: the acceptance scenario of SPEC §6 with real processes on loopback, typed and
// read back as a person would, with every process's console shown and a summary at the end.
import { parseArgs } from 'node:util';
import { LineWriter } from '../net/lines.js';
import { UsageError, runProgram, traceOption, usageErrors } from '../net/usage.js';
import { runFull, runMilestone, type FullFacts, type ScenarioFacts } from './scenarios.js';

const USAGE = `usage: npm start -- [options]
  --scenario NAME   full (default: 6 peers, 1996, queries, leave, join, teardown) or milestone (3 peers, 1950)
  --data-dir DIR    where details-YYYY.csv is (default: $DHT_DATA_DIR, else ./data if it exists, else
                    ../shared/data beside the checkout if it exists; the same rule as dht-peer's).
                    A default directory without the year's file: a synthetic dataset is generated
                    and announced
  --trace MODE      summary (default), full or off: the trace the processes print
  --quiet           print only the summary, not every process's console
  --help            show this text`;

const OPTIONS = {
  scenario: { type: 'string' },
  'data-dir': { type: 'string' },
  trace: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) return void process.stdout.write(USAGE + '\n');
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]!.slice(0, 30)}'`);
  const scenario = values.scenario ?? 'full';
  if (scenario !== 'full' && scenario !== 'milestone') throw new UsageError(`--scenario must be full or milestone, got '${scenario.slice(0, 30)}'`);
  const writer = new LineWriter(process.stdout);
  const options = {
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    trace: traceOption(values.trace), echo: !values.quiet, writer, log: (line: string) => writer.line(line),
  };
  try {
    const facts = scenario === 'full' ? await runFull(options) : await runMilestone(options);
    summary(facts, writer);
    writer.drain(() => process.exit(facts.ok ? 0 : 1));
  } catch (err) {
    writer.line(`scenario FAILED: ${err instanceof Error ? err.message : String(err)}`);
    writer.drain(() => process.exit(1));
  }
}

function summary(f: ScenarioFacts | FullFacts, w: LineWriter): void {
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
  w.line(f.ok ? 'RESULT: PASS' : 'RESULT: FAIL');
}

runProgram('npm start', USAGE, main);
