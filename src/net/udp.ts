// Binding UDP sockets with large buffers. Bulk store traffic arrives in bursts of a window of
// batches per hop; a bigger receive buffer means fewer drops and retransmissions.
import dgram from 'node:dgram';
import dns from 'node:dns';

const RECV_BUFFER = 8 * 1024 * 1024;
const SEND_BUFFER = 4 * 1024 * 1024;

/** A udp4 socket bound to ip:port; rejects with an Error whose message is one line for a person. */
export function bindUdp(ip: string, port: number): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      try {
        sock.close();
      } catch {
        // never bound: nothing to close
      }
      reject(new Error(bindErrorText(ip, port, err)));
    };
    sock.once('error', onError);
    sock.bind(port, ip, () => {
      sock.off('error', onError);
      tuneBuffers(sock);
      resolve(sock);
    });
  });
}

/**
 * Every address we send to is already a dotted-decimal IPv4 (names are resolved when typed), so
 * the per-datagram DNS lookup dgram does by default is pure overhead: a deferred callback per send.
 * Answering at once saves it; anything else still goes through the real resolver.
 */
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
function literalLookup(hostname: string, options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  if (IPV4.test(hostname)) return callback(null, hostname, 4);
  dns.lookup(hostname, { family: 4 }, callback);
}

function tuneBuffers(sock: dgram.Socket): void {
  // The kernel caps these at net.core.rmem_max / wmem_max; a smaller buffer still works.
  try {
    sock.setRecvBufferSize(RECV_BUFFER);
  } catch {
    // keep the default
  }
  try {
    sock.setSendBufferSize(SEND_BUFFER);
  } catch {
    // keep the default
  }
}

export function bindErrorText(ip: string, port: number, err: unknown): string {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'EADDRINUSE': return `${ip}:${port} is already in use (EADDRINUSE)`;
    case 'EADDRNOTAVAIL': return `${ip} is not an address of this machine (EADDRNOTAVAIL)`;
    case 'EACCES': return `permission denied to bind ${ip}:${port} (EACCES)`;
    default: {
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return `cannot bind ${ip}:${port}: ${text}`;
    }
  }
}

/** Close a socket that may already be closed. */
export function closeQuietly(sock: dgram.Socket | null): void {
  if (!sock) return;
  try {
    sock.close();
  } catch {
    // already closed
  }
}
