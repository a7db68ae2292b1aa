// The chained floor: how many datagrams a second P bare Node processes pass among themselves when
// each must be received before the next is sent (C chains in flight at once, each hop to a random
// other process). A query is such a chain (query-dht and its answer, the walk's hops, the answer
// to the querier: ~6 datagrams), so chained datagrams per second / 6 bounds the queries per second
// on this machine far more tightly than the streaming floor (floor.ts), where one process sends
// without waiting and the other drains its socket in bursts. Measured in the same run as the
// figure it bounds; run alone: `node dist/bench/chain-floor.js [--procs 10] [--chains 64]`.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface ChainFloor { procs: number; chains: number; seconds: number; perSecond: number }

const once = <T>(child: ChildProcess, pick: (m: unknown) => T | undefined): Promise<T> =>
  new Promise((resolve) => {
    const on = (m: unknown): void => {
      const v = pick(m);
      if (v !== undefined) {
        child.off('message', on);
        resolve(v);
      }
    };
    child.on('message', on);
  });

export async function chainFloor(procs = 10, chains = 64, seconds = 2, size = 200): Promise<ChainFloor> {
  const relay = fileURLToPath(new URL('./chain-relay.js', import.meta.url));
  const children = Array.from({ length: procs }, () => fork(relay, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  try {
    const ports = await Promise.all(children.map((c) => once(c, (m) => (m as { port?: number }).port)));
    for (const c of children) c.send({ peers: ports });
    const { default: dgram } = await import('node:dgram');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const counts = async (): Promise<number> => {
      const got = await Promise.all(children.map((c) => { const p = once(c, (m) => (m as { count?: number }).count); c.send({ count: true }); return p; }));
      return got.reduce((a, b) => a + b, 0);
    };
    const payload = Buffer.alloc(size, 0x61);
    for (let i = 0; i < chains; i++) sock.send(payload, ports[i % ports.length]!, '127.0.0.1');
    // Let the chains spread, then count over a measured interval.
    await new Promise((r) => setTimeout(r, 300));
    const before = await counts();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await counts();
    const elapsed = (performance.now() - t0) / 1000;
    sock.close();
    return { procs, chains, seconds: elapsed, perSecond: (after - before) / elapsed };
  } finally {
    for (const c of children) c.send({ stop: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const v = parseArgs({ options: { procs: { type: 'string', default: '10' }, chains: { type: 'string', default: '64' }, seconds: { type: 'string', default: '2' } } }).values;
  const f = await chainFloor(Number(v.procs), Number(v.chains), Number(v.seconds));
  console.log(`chained floor: ${Math.round(f.perSecond).toLocaleString()} datagrams/s among ${f.procs} processes, ${f.chains} chains in flight (each datagram received before the next is sent); /6 = ${Math.round(f.perSecond / 6).toLocaleString()} six-datagram chains/s`);
}
