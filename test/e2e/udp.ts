// Test-side UDP tools for the end-to-end attack tests: a socket that talks to the live processes
// as an outsider (it is not any peer's m-port or p-port), and a way to learn every peer's ports
// from the manager's `status`. Every wait is on an event (a datagram, an output line) bounded by
// a timeout; nothing waits on a clock for synchronisation.
import dgram from 'node:dgram';
import type { DrivenProcess } from '../../src/scenario/driver.js';
import { isPack } from '../../src/protocol/pack.js';

export interface Received { msg: Record<string, unknown> | null; raw: Buffer; port: number }

/** Kept per probe: enough to find answers and replay genuine datagrams, bounded. */
const MAX_KEPT = 2000;

/** An outsider's UDP socket on 127.0.0.1. It acknowledges what it is sent (as a polite querier would). */
export class Probe {
  readonly received: Received[] = [];
  /** Acknowledge every numbered datagram that is not itself an ack or a response. */
  autoAck = true;
  sent = 0;
  private waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  private constructor(private readonly sock: dgram.Socket) {
    sock.on('message', (raw, rinfo) => this.onMessage(raw, rinfo.port));
    sock.on('error', () => {}); // e.g. ICMP port unreachable: an outsider does not care
  }

  static async open(): Promise<Probe> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve());
    });
    try {
      sock.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // the default will do
    }
    return new Probe(sock);
  }

  get port(): number {
    return this.sock.address().port;
  }

  /** This socket's address as a ring tuple. */
  tuple(name: string): { name: string; ip: string; port: number } {
    return { name, ip: '127.0.0.1', port: this.port };
  }

  send(port: number, payload: Buffer | string | object): Promise<void> {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    this.sent += 1;
    return new Promise((resolve, reject) => this.sock.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /** Send in batches, each batch's send callbacks awaited before the next: a bounded rate, no sleeps. */
  async sendAll(items: { port: number; bytes: Buffer }[], batch = 500): Promise<void> {
    for (let i = 0; i < items.length; i += batch) {
      await Promise.all(items.slice(i, i + batch).map((it) => this.send(it.port, it.bytes)));
    }
  }

  /** The first datagram (already received or arriving within timeoutMs) that matches. */
  next(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`probe ${this.port}: no matching datagram within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }

  private onMessage(raw: Buffer, port: number): void {
    // A datagram of several messages (PROTOCOL §2.6): each line as if it had come alone.
    if (isPack(raw)) {
      for (const line of raw.toString('utf8').split('\n')) if (line !== '') this.onOne(Buffer.from(line), port);
      return;
    }
    this.onOne(raw, port);
  }

  private onOne(raw: Buffer, port: number): void {
    let msg: Record<string, unknown> | null = null;
    try {
      const v: unknown = JSON.parse(raw.toString('utf8'));
      if (v && typeof v === 'object' && !Array.isArray(v)) msg = v as Record<string, unknown>;
    } catch {
      // not ours to judge
    }
    const r = { msg, raw, port };
    if (this.received.length >= MAX_KEPT) this.received.shift();
    this.received.push(r);
    if (this.autoAck && msg && typeof msg['rid'] === 'number' && msg['t'] !== 'ack' && msg['t'] !== 'res') {
      void this.send(port, { t: 'ack', rid: msg['rid'] }).catch(() => {});
    }
    for (const w of [...this.waiters]) {
      if (w.match(r)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(r);
      }
    }
  }
}

export interface PeerPorts { name: string; ip: string; mport: number; pport: number; state: string }

/** Type `status` at the manager and read the peer table it prints. */
export async function managerStatus(manager: DrivenProcess): Promise<{ dht: string; peers: Map<string, PeerPorts>; lines: string[] }> {
  manager.send('status');
  const dhtLine = await manager.waitFor(/^DHT: /);
  const countLine = await manager.waitFor(/^peers: \d+ registered$/);
  const count = Number(/^peers: (\d+)/.exec(countLine)![1]);
  const peers = new Map<string, PeerPorts>();
  const lines = [dhtLine, countLine];
  for (let i = 0; i < count; i++) {
    const line = await manager.waitFor(/^ {2}\S+\s+\S+\s+m-port \d+\s+p-port \d+\s+\S+$/);
    lines.push(line);
    const m = /^ {2}(\S+)\s+(\S+)\s+m-port (\d+)\s+p-port (\d+)\s+(\S+)$/.exec(line)!;
    peers.set(m[1]!, { name: m[1]!, ip: m[2]!, mport: Number(m[3]), pport: Number(m[4]), state: m[5]! });
  }
  return { dht: dhtLine, peers, lines };
}

/** Type `status` at a peer; its one status line. */
export async function peerStatus(peer: DrivenProcess): Promise<string> {
  peer.send('status');
  return peer.waitFor(/^status: /);
}

/** Records a peer holds, from its status line. */
export function heldRecords(statusLine: string): number {
  const m = /; (\d+) records? held$/.exec(statusLine);
  if (!m) throw new Error(`no record count in '${statusLine}'`);
  return Number(m[1]);
}

/**
 * A point after which every datagram sent earlier to `port` has been handled: a fresh socket (so
 * the per-source rate limit does not hide its complaint) sends one non-JSON datagram, and we wait
 * for the target's `bad datagram from <that socket>` line. Loopback keeps the order per socket.
 */
export async function drained(target: DrivenProcess, port: number, timeoutMs = 30_000): Promise<void> {
  const sentinel = await Probe.open();
  try {
    const seen = target.watch(new RegExp(`^bad datagram from 127\\.0\\.0\\.1:${sentinel.port}: not JSON`), timeoutMs);
    await sentinel.send(port, `sentinel ${sentinel.port}`);
    await seen;
  } finally {
    sentinel.close();
  }
}

/** Lines that report a rejected or ignored datagram (each may summarise many). */
export const COMPLAINT = /^(bad datagram from |ignored \S+ from )/;
