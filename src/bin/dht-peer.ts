#!/usr/bin/env node
// dht-peer: one peer of the ring DHT. Reads commands from stdin, one per line (SPEC §1).
import { parseArgs } from 'node:util';
import { DEFAULT_RETRY } from '../reliable/index.js';
import { parseIpv4, parsePort } from '../console/commands.js';
import { HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD } from '../protocol/codec.js';
import { DEFAULT_LOCAL_PAYLOAD, localPath } from '../net/local.js';
import { chaosFromOptions, describeChaos } from '../net/chaos.js';
import { DEFAULT_MAX_PAYLOAD, DEFAULT_QUERIES_IN_FLIGHT, DEFAULT_QUERY_TIMEOUT_MS, DEFAULT_WINDOW, retryPolicy } from '../net/options.js';
import { MAX_QUERIES_IN_FLIGHT } from '../peer/manager-link.js';
import { PeerShell } from '../net/peer-shell.js';
import { UsageError, intOption, runProgram, traceOption, usageErrors } from '../net/usage.js';
import { LOG_OPTIONS, LOG_USAGE, eventLogFromOptions } from '../net/log-option.js';
import { KEY_FILE_OPTIONS, KEY_FILE_USAGE } from '../crypto/options.js';
import { keyedFromOptions } from '../net/key-option.js';
import { missingDataDirWarning, resolveDataDir } from '../data/dirs.js';
import { capYoungGeneration, slowOldGenerationGrowth, traceMemory, extraV8Flags } from '../net/heap.js';

const USAGE = `usage: dht-peer <manager-IPv4|localhost> <manager-port> [options]
  --data-dir DIR          where details-YYYY.csv files are (default: $DHT_DATA_DIR, else ./data if it
                          exists, else ../shared/data beside the checkout if it exists, else ./data;
                          the same rule as npm start's). Only a peer that leads a setup, leave or
                          join reads it; a missing directory is warned about at start-up
  --trace MODE            summary (default), full (every datagram) or off
  --chaos SPEC            inject faults into sent datagrams, e.g. loss=0.2,dup=0.05,reorder=0.1[,delay=MS]
                          (default: $DHT_CHAOS, else none)
  --rto MS                first retransmission timeout (default ${DEFAULT_RETRY.rtoMs})
  --tries N               timeouts without any answer before a peer is declared silent (default ${DEFAULT_RETRY.maxTries})
  --window N              store batches in flight per ring hop (default ${DEFAULT_WINDOW})
  --max-payload BYTES     largest datagram payload (default ${DEFAULT_MAX_PAYLOAD})
  --local-payload BYTES   largest store batch when the whole ring is on this machine (loopback or
                          its own addresses; default ${DEFAULT_LOCAL_PAYLOAD}, 0 = never)
  --query-timeout MS      how long a query may take (default ${DEFAULT_QUERY_TIMEOUT_MS})
  --queries-in-flight N   query-dht lines of this peer waiting in the console (a script, a paste)
                          run up to N at once; each query's lines still print together, in the
                          order typed (default ${DEFAULT_QUERIES_IN_FLIGHT}; 1 = one at a time)
  --replicas R            a setup this peer leads keeps each record at its node and, as a copy, at
                          the next R−1 nodes (capped at the ring's size), so a query whose node is
                          dead is answered by a copy (default 1: no copies, as in the SPEC)
  --compress MODE         auto (default), on or off: deflate the store batches this peer cuts when
                          it leads a setup or rebuild, ~5 times the records per datagram; auto is on
                          with --key-file (sealed datagrams are opaque anyway), off without (store
                          batches stay readable text in a capture). Every peer reads both forms
${LOG_USAGE}
${KEY_FILE_USAGE}
  --help                  show this text
Then type commands on stdin; 'help' lists them.`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  trace: { type: 'string' },
  chaos: { type: 'string' },
  rto: { type: 'string' },
  tries: { type: 'string' },
  window: { type: 'string' },
  'max-payload': { type: 'string' },
  'local-payload': { type: 'string' },
  'query-timeout': { type: 'string' },
  'queries-in-flight': { type: 'string' },
  replicas: { type: 'string' },
  compress: { type: 'string' },
  ...LOG_OPTIONS,
  ...KEY_FILE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

function main(): void {
  extraV8Flags();
  capYoungGeneration();
  slowOldGenerationGrowth();
  traceMemory();
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positionals.length !== 2) throw new UsageError(`expected 2 arguments (manager address and port), got ${positionals.length}`);
  const ip = parseIpv4(positionals[0]!);
  if (ip === null) throw new UsageError(`'${positionals[0]!.slice(0, 30)}' is not a dotted-decimal IPv4 address or localhost`);
  const port = parsePort(positionals[1]!);
  if (port === null) throw new UsageError(`manager port '${positionals[1]!.slice(0, 30)}' is not a port 1–65535`);
  const dataChoice = resolveDataDir(values['data-dir']);
  const dataDir = dataChoice.dir;
  const chaos = chaosFromOptions(values.chaos);
  const log = eventLogFromOptions(values);
  const keyed = keyedFromOptions(values, (line) => process.stdout.write(`peer: ${line}\n`));
  // Keyed mode refuses sealed datagrams above HARD_MAX_PAYLOAD (crypto/seal.ts): batches stay small there.
  // --local-payload 0 only stops this peer cutting large batches: it still takes them from local peers.
  const localPayload = intOption('local-payload', values['local-payload'], 0, LOCAL_MAX_PAYLOAD) ?? DEFAULT_LOCAL_PAYLOAD;
  const shell = new PeerShell({
    ...(log ? { observer: log } : {}),
    keyed,
    manager: { ip, port },
    dataDir,
    trace: traceOption(values.trace),
    chaos,
    config: {
      retry: retryPolicy(intOption('rto', values.rto, 1, 60_000), intOption('tries', values.tries, 1, 1000)),
      window: intOption('window', values.window, 1, 4096) ?? DEFAULT_WINDOW,
      maxPayload: intOption('max-payload', values['max-payload'], 512, HARD_MAX_PAYLOAD) ?? DEFAULT_MAX_PAYLOAD,
      queryTimeoutMs: intOption('query-timeout', values['query-timeout'], 100, 3_600_000) ?? DEFAULT_QUERY_TIMEOUT_MS,
      replicas: intOption('replicas', values.replicas, 1, 256) ?? 1,
      queriesInFlight: intOption('queries-in-flight', values['queries-in-flight'], 1, MAX_QUERIES_IN_FLIGHT) ?? DEFAULT_QUERIES_IN_FLIGHT,
      local: localPath(localPayload),
      compress: compressOption(values.compress, keyed !== null),
    },
  });
  process.stdout.write(`peer: manager at ${ip}:${port}; data directory ${dataDir}` +
    (chaos ? `; chaos ${describeChaos(chaos)}` : '') + (keyed ? `; ${keyed.describe()}` : '') + `; type help for the commands\n`);
  // A member that never leads never reads the directory, so a missing one is not fatal; but a
  // typo in --data-dir should show at once, not at the first setup-dht.
  const warning = missingDataDirWarning(dataChoice);
  if (warning !== null) process.stderr.write(warning + '\n');
  shell.start();
}

/** --compress: on, off, or auto (on in keyed mode only). */
function compressOption(value: string | undefined, keyed: boolean): boolean {
  if (value === undefined || value === 'auto') return keyed;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new UsageError(`--compress must be one of auto, on, off, got '${value.slice(0, 30)}'`);
}

runProgram('dht-peer', USAGE, main);
