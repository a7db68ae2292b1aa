// Which peers are processes of this machine, so that store batches to them may be larger than a
// LAN's 1,400 bytes (protocol/wire.ts LocalPath). A datagram to a loopback address, or to one of
// this machine's own interface addresses, is delivered through the loopback device (MTU 65,536):
// it is never cut by IP, nor lost to a smaller MTU on the way. Any other address keeps the
// configured maximum, because nothing tells us what the path to it allows.
import os from 'node:os';
import type { LocalPath } from '../protocol/wire.js';

/** Store batches between processes of one machine: measured in docs/BENCHMARKS.md (issue 11, third round). */
export const DEFAULT_LOCAL_PAYLOAD = 60_000;

/** The machine's addresses are read once: a peer's ring is on the addresses it had when it started. */
export function localPath(payload: number): LocalPath {
  const own = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4') own.add(a.address);
  }
  return { payload, isLocal: (ip) => ip.startsWith('127.') || own.has(ip) };
}
