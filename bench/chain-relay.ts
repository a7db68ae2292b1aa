// Child process of the chained floor (chain-floor.ts): a bare Node UDP socket that passes every
// datagram it gets to a random other relay at once, counting them. No parsing, no state: what a
// process that must wake for each datagram of a chain costs at the least.
import dgram from 'node:dgram';

const sock = dgram.createSocket('udp4');
let ports: number[] = [];
let count = 0;
let running = true;
sock.on('message', (msg) => {
  count += 1;
  if (!running || ports.length === 0) return;
  const to = ports[Math.floor(Math.random() * ports.length)]!;
  sock.send(msg, to, '127.0.0.1');
});
process.on('message', (m: { peers?: number[]; stop?: boolean; count?: boolean }) => {
  if (m.peers) ports = m.peers.filter((p) => p !== (sock.address() as { port: number }).port);
  if (m.count) process.send?.({ count });
  if (m.stop) {
    running = false;
    sock.close();
    process.exit(0);
  }
});
sock.bind(0, '127.0.0.1', () => process.send?.({ port: sock.address().port }));
