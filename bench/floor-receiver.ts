// Child process of the loopback floor: counts datagrams until the end marker, reports over IPC.
import dgram from 'node:dgram';

const sock = dgram.createSocket('udp4');
let count = 0;
let first = 0;
let last = 0;
sock.on('message', (msg) => {
  if (msg.length === 3 && msg.toString() === 'END') {
    process.send?.({ count, seconds: (last - first) / 1e9 });
    sock.close();
    return;
  }
  const t = process.hrtime.bigint();
  if (count === 0) first = Number(t);
  last = Number(t);
  count += 1;
});
sock.bind(0, '127.0.0.1', () => {
  try {
    sock.setRecvBufferSize(8 * 1024 * 1024);
  } catch {
    // capped by the kernel; the figure then shows it
  }
  process.send?.({ port: sock.address().port });
});
