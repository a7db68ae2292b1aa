// Real event logs without the programs: the simulated World (src/sim/world.ts) runs the manager
// and peer cores through the shared interpreter, and its event logs (src/sim/logs.ts) record
// every send, receive, console line, print, state change and timer in the format of `--log`.
// Options reproduce what a diagram must cope with: hosts whose clocks disagree, fragments,
// network duplicates, losses, and a manager that logs a wildcard address.
import { DEFAULT_MAX_PAYLOAD } from '../../../src/protocol/codec.js';
import type { Addr } from '../../../src/reliable/index.js';
import type { LineDataset } from '../../../src/data/record.js';
import type { Message } from '../../../src/protocol/messages.js';
import type { Observer } from '../../../src/runtime/observer.js';
import { LOSSY_RETRY } from '../../../src/sim/scenario.js';
import { SimLogs } from '../../../src/sim/logs.js';
import { World } from '../../../src/sim/world.js';

export interface HarnessOptions {
  dir: string;
  data: LineDataset;
  seed?: number;
  /** Added to a process's clock in its log only: hosts whose clocks disagree. */
  skewMs?: Record<string, number>;
  /** Payload limit of the wire: small values cut messages into fragments. */
  wirePayload?: number;
  /** Chance a datagram is delivered twice / lost. */
  dup?: number;
  loss?: number;
  /** The manager's socket as its log names it: 0.0.0.0 for one listening on every interface. */
  managerLogAddr?: Addr;
}

/** Runs the milestone (SPEC §6: three peers register, peer1 sets up a DHT of 3); returns the log files, manager first. */
export function milestone(opts: HarnessOptions): string[] {
  const logs = new SimLogs();
  const world = new World({
    seed: opts.seed ?? 1,
    faults: { loss: opts.loss ?? 0, dup: opts.dup ?? 0, reorder: 0 },
    manager: { waitTimeoutMs: 60_000, retry: LOSSY_RETRY },
    peer: { retry: LOSSY_RETRY, maxPayload: DEFAULT_MAX_PAYLOAD, window: 16, queryTimeoutMs: 30_000 },
    datasets: new Map([[opts.data.year, opts.data]]),
    ...(opts.wirePayload ? { wirePayload: opts.wirePayload } : {}),
    observe: (proc, now) => {
      const skew = opts.skewMs?.[proc] ?? 0;
      const log = logs.start(proc, now + skew);
      return skew === 0 && !(proc === 'manager' && opts.managerLogAddr) ? log : disguised(log, skew, proc === 'manager' ? opts.managerLogAddr : undefined);
    },
  });
  const command = (name: string, text: string, expect: string): void => {
    const p = world.peer(name);
    const from = p.prints.length;
    world.type(name, text);
    const ok = world.runUntil(() => p.core.idle && p.prints.slice(from).some((l) => l.startsWith(expect)), 600_000);
    if (!ok) throw new Error(`harness: '${text}' at ${name} did not print '${expect}': ${p.prints.slice(from).slice(-5).join(' | ')}`);
  };
  for (let i = 1; i <= 3; i++) {
    world.addPeer(`peer${i}`, 5000 + 2 * i, 5001 + 2 * i);
    command(`peer${i}`, `register peer${i} 127.0.0.1 ${5000 + 2 * i} ${5001 + 2 * i}`, 'register: SUCCESS');
  }
  command('peer1', `setup-dht peer1 3 ${opts.data.year}`, 'dht-complete: SUCCESS');
  world.settle(2_000);
  return logs.write(opts.dir);
}

/** The observer as another host would record it: its clock `skew` ms ahead, and perhaps a wildcard socket. */
function disguised(log: Observer, skew: number, socket: Addr | undefined): Observer {
  return {
    send: (now, to, msg: Message, datagrams, attempt, via) => log.send(now + skew, to, msg, datagrams, attempt, via),
    receive: (now, from, msg, bytes, note, via) => log.receive(now + skew, from, msg, bytes, note, via),
    console: (now, line) => log.console(now + skew, line),
    print: (now, text) => log.print(now + skew, text),
    state: (now, what) => log.state(now + skew, what),
    timer: (now) => log.timer(now + skew),
    bound: (now, sockets, name) => log.bound(now + skew, socket ? { manager: socket } : sockets, name),
    close: () => log.close?.(),
  };
}
