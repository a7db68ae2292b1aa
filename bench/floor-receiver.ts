// Child process of the loopback floor: counts datagrams of each round until its end marker and
// reports the round's count and receive time over IPC.
import dgram from 'node:dgram';

const sock = dgram.createSocket('udp4');
let count = 0;
let first = 0n;
let last = 0n;
sock.on('message', (msg) => {
  if (msg.length === 3 && msg.toString() === 'END') {
    process.send?.({ count, seconds: Number(last - first) / 1e9 });
    count = 0;
    return;
  }
  const t = process.hrtime.bigint();
  if (count === 0) first = t;
  last = t;
  count += 1;
});
process.on('message', (m) => {
  if (m === 'stop') {
    sock.close();
    process.exit(0);
  }
});
sock.bind(0, '127.0.0.1', () => {
  try {
    sock.setRecvBufferSize(8 * 1024 * 1024);
  } catch {
    // capped by the kernel; the figure then shows it
  }
  process.send?.({ port: sock.address().port });
});
