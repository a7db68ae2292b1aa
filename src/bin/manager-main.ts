// dht-manager's program (SPEC §2), loaded by bin/dht-manager.ts once V8's flags are set.
import { parseArgs } from 'node:util';
import { DEFAULT_RETRY } from '../reliable/index.js';
import { parseIpv4, parsePort } from '../console/commands.js';
import { chaosFromOptions, describeChaos } from '../net/chaos.js';
import { ManagerShell } from '../net/manager-shell.js';
import { DEFAULT_WAIT_TIMEOUT_S, retryPolicy } from '../net/options.js';
import { UsageError, intOption, runProgram, traceOption, usageErrors } from '../net/usage.js';
import { LOG_OPTIONS, LOG_USAGE, eventLogFromOptions } from '../net/log-option.js';
import { KEY_FILE_OPTIONS, KEY_FILE_USAGE } from '../crypto/options.js';
import { keyedFromOptions } from '../net/key-option.js';
import { DEFAULT_LIVENESS } from '../manager/liveness.js';
import { collectGarbageEagerly, traceMemory } from '../net/heap.js';

const USAGE = `usage: dht-manager <port> [options]
  --bind IPv4             address to listen on (default 0.0.0.0, every interface)
  --trace MODE            summary (default), full (every datagram) or off
  --chaos SPEC            inject faults into sent datagrams, e.g. loss=0.2,dup=0.05,reorder=0.1[,delay=MS]
                          (default: $DHT_CHAOS, else none)
  --wait-timeout SECONDS  how long to wait for dht-complete, dht-rebuilt or teardown-complete (default ${DEFAULT_WAIT_TIMEOUT_S})
  --no-detect             do not detect dead peers. By default (PROTOCOL §4.11, §4.12) registered peers send
                          alive every ${DEFAULT_LIVENESS.heartbeatMs} ms, a peer silent for ${DEFAULT_LIVENESS.suspectMs} ms is probed every ${DEFAULT_LIVENESS.probeMs} ms, and one
                          silent for ${DEFAULT_LIVENESS.deadMs} ms is declared dead: deregistered, and a ready DHT it was in
                          repaired without it (any other DHT it was in is dissolved)
  --detect                detection on (the default; kept for scripts that name it)
  --rto MS                first retransmission timeout (default ${DEFAULT_RETRY.rtoMs})
  --tries N               timeouts without any answer before a peer is declared silent (default ${DEFAULT_RETRY.maxTries})
${LOG_USAGE}
${KEY_FILE_USAGE}
  --http PORT             serve the live view (a web page of the peers, the ring and the messages) on this
                          TCP port; 0 picks a free one. The address is printed
  --http-bind IPv4        address the live view listens on (default 127.0.0.1: this machine only; it has no
                          login, so give another address only on a network you trust)
  --state FILE            keep the manager's state in FILE (default: $DHT_STATE_FILE, else none): every change
                          is appended and fsynced before it is answered, and a manager started again on the
                          same file (after a crash, kill -9 or quit) goes on where it was; no peer restarts
  --fresh                 with --state: set FILE's old state aside (FILE.old) and start with no peers
  --help                  show this text
Console commands: status, help, quit.`;

const OPTIONS = {
  bind: { type: 'string' },
  trace: { type: 'string' },
  chaos: { type: 'string' },
  'wait-timeout': { type: 'string' },
  detect: { type: 'boolean' },
  'no-detect': { type: 'boolean' },
  rto: { type: 'string' },
  tries: { type: 'string' },
  ...LOG_OPTIONS,
  ...KEY_FILE_OPTIONS,
  http: { type: 'string' },
  'http-bind': { type: 'string' },
  state: { type: 'string' },
  fresh: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<void> {
  traceMemory();
  collectGarbageEagerly();
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`expected 1 argument (the port), got ${positionals.length}`);
  const port = parsePort(positionals[0]!);
  if (port === null) throw new UsageError(`port '${positionals[0]!.slice(0, 30)}' is not a port 1–65535`);
  const bind = values.bind === undefined ? '0.0.0.0' : parseIpv4(values.bind);
  if (bind === null) throw new UsageError(`--bind '${values.bind!.slice(0, 30)}' is not a dotted-decimal IPv4 address`);
  const waitS = intOption('wait-timeout', values['wait-timeout'], 1, 86_400) ?? DEFAULT_WAIT_TIMEOUT_S;
  const chaos = chaosFromOptions(values.chaos);
  const log = eventLogFromOptions(values, 'manager');
  const keyed = keyedFromOptions(values, (line) => process.stdout.write(`manager: ${line}\n`));
  const httpPort = intOption('http', values.http, 0, 65535);
  const httpBind = values['http-bind'] === undefined ? '127.0.0.1' : parseIpv4(values['http-bind']);
  if (httpBind === null) throw new UsageError(`--http-bind '${values['http-bind']!.slice(0, 30)}' is not a dotted-decimal IPv4 address`);
  if (values['http-bind'] !== undefined && httpPort === undefined) throw new UsageError('--http-bind needs --http PORT');
  const stateFile = values.state ?? (process.env['DHT_STATE_FILE'] || undefined);
  if (values.fresh && stateFile === undefined) throw new UsageError('--fresh needs --state FILE (or DHT_STATE_FILE)');
  // Read before anything is bound: a state that cannot be read ends the program (exit 1), never an empty start over it.
  // The journal and the live view are loaded only when asked for (a few MB of resident memory).
  const journal = stateFile === undefined ? undefined : (await import('../net/journal.js')).Journal.open(stateFile, { fresh: values.fresh === true });
  if (journal) process.on('exit', () => journal.journal.close());
  const live = httpPort === undefined ? undefined : new (await import('../live/view.js')).LiveView();
  const shell = new ManagerShell({
    ...(log ? { observer: log } : {}),
    ...(live ? { observers: [live] } : {}),
    keyed,
    ...(journal ? { journal } : {}),
    bind,
    port,
    trace: traceOption(values.trace),
    chaos,
    config: {
      waitTimeoutMs: waitS * 1000,
      ...(values['no-detect'] ? {} : { liveness: DEFAULT_LIVENESS }),
      retry: retryPolicy(intOption('rto', values.rto, 1, 60_000), intOption('tries', values.tries, 1, 1000)),
    },
  });
  if (chaos) process.stdout.write(`manager: chaos ${describeChaos(chaos)}\n`);
  if (keyed) process.stdout.write(`manager: ${keyed.describe()}\n`);
  if (live) {
    live.attach(shell.core);
    try {
      const addr = await live.server.listen(httpPort!, httpBind);
      process.stdout.write(`manager: live view at http://${addr.address}:${addr.port}/\n`);
    } catch (err) {
      process.stderr.write(`dht-manager: cannot serve the live view (--http): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      process.exit(1);
    }
  }
  try {
    await shell.start();
  } catch (err) {
    process.stderr.write(`dht-manager: cannot listen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

runProgram('dht-manager', USAGE, main);
