// Floors measured in the same run as the figures they bound: how fast two Node processes can
// move datagrams over loopback, and how long reading and parsing the dataset alone takes.
import dgram from 'node:dgram';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadLinesSync } from '../src/data/loader.js';

export interface LoopbackFloor { size: number; sent: number; received: number; perSecond: number }

/**
 * How fast two Node processes move datagrams of `size` bytes over loopback without loss: rounds
 * of 4,096 datagrams (5.7 MB, inside the receiver's 8 MB buffer) sent as fast as Node can, the
 * rate taken at the receiver from its first to its last datagram of each round.
 */
export async function loopbackFloor(size: number, count: number): Promise<LoopbackFloor> {
  const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'floor-receiver.js'), [], { stdio: 'ignore' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const payload = Buffer.alloc(size, 0x61);
  const send = (buf: Buffer): Promise<void> => new Promise((resolve) => sock.send(buf, port, '127.0.0.1', () => resolve()));
  let received = 0;
  let seconds = 0;
  const ROUND = 4096; // 16 chunks of 256
  for (let sent = 0; sent < count; sent += ROUND) {
    const report = new Promise<{ count: number; seconds: number }>((resolve) => child.once('message', resolve as never));
    // Chunks keep libuv's send queue bounded; each chunk waits for its last send to be handed over.
    for (let i = 0; i < ROUND; i += 256) {
      for (let j = 0; j < 255; j++) sock.send(payload, port, '127.0.0.1');
      await send(payload);
    }
    await send(Buffer.from('END'));
    const r = await report;
    received += r.count;
    seconds += r.seconds;
  }
  sock.close();
  child.send('stop');
  const sent = Math.ceil(count / ROUND) * ROUND;
  return { size, sent, received, perSecond: seconds > 0 ? received / seconds : 0 };
}

/** Median time to read and parse a year's file, in ms (5 runs). */
export function parseFloorMs(dataDir: string, year: number): { ms: number; records: number } {
  const times: number[] = [];
  let records = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    records = loadLinesSync(dataDir, year).lines.length;
    times.push(performance.now() - t0);
  }
  return { ms: median(times), records };
}

export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))]!;
}
