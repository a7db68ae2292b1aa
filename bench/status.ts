// What a peer process reports of itself in its `status` lines, read by the benchmark.
import type { System } from '../src/scenario/system.js';

export interface PeerTraffic { datagrams: number; bytes: number; rssMb: number; cpuMs: number }

/** Each peer's datagram and byte counters, peak RSS and CPU, from its `status` line. */
export async function traffic(system: System, names: string[]): Promise<Map<string, PeerTraffic>> {
  const out = new Map<string, PeerTraffic>();
  await Promise.all(names.map(async (name) => {
    const p = system.peer(name);
    p.send('status');
    const line = await p.waitFor(/^process: /);
    const m = /peak RSS (\d+) MB; sent (\d+) datagrams \((\d+) bytes\).*; CPU (\d+) ms/.exec(line);
    if (!m) throw new Error(`cannot read traffic from '${line}'`);
    out.set(name, { rssMb: Number(m[1]), datagrams: Number(m[2]), bytes: Number(m[3]), cpuMs: Number(m[4]) });
  }));
  return out;
}

