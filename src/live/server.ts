// The live view's HTTP server, on node:http alone: `GET /` the page (page.ts, self-contained),
// `GET /events` server-sent events, `GET /state` the snapshot as JSON. Bounded everywhere: at
// most `maxClients` event streams, and a client whose unsent bytes pass `maxQueuedBytes` (a
// stalled or slow browser) is dropped rather than buffered for; nothing here grows without end.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageView, Snapshot } from './snapshot.js';
import { PAGE } from './page.js';
import { bindErrorText } from '../net/udp.js';

export const DEFAULT_MAX_CLIENTS = 16;
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/** A comment line now and then keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** How soon a browser reconnects after the stream broke (the SSE `retry` field). */
const RETRY_MS = 2_000;

/** What the server serves: the state now and the last few messages (for a page that just connected). */
export interface LiveSource {
  snapshot(): Snapshot;
  recent(): readonly MessageView[];
}

export interface LiveServerOptions {
  maxClients?: number;
  maxQueuedBytes?: number;
}

/** One server-sent event: `event:` and one `data:` line (JSON has no raw newlines), then a blank line. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // Inline script and style only; the page loads nothing from anywhere and connects only back here.
  'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
};

export class LiveServer {
  private readonly server: http.Server;
  private readonly clients = new Set<http.ServerResponse>();
  private readonly maxClients: number;
  private readonly maxQueuedBytes: number;
  private keepalive: NodeJS.Timeout | null = null;
  /** Streams refused (too many) and dropped (too slow), for the tests and `status`-like curiosity. */
  refused = 0;
  dropped = 0;

  constructor(private readonly source: LiveSource, options: LiveServerOptions = {}) {
    this.maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    // Event streams plus a few page loads and /state requests at a time.
    this.server.maxConnections = this.maxClients + 16;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Listen; resolves with the address (port 0 picks a free one), rejects with a one-line Error. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(new Error(bindErrorText(host, port, err)));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        // Later errors (a client's socket) must not kill the manager.
        this.server.on('error', () => {});
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Send one event to every connected page; a page that cannot keep up is dropped. */
  broadcast(event: string, data: unknown): void {
    if (this.clients.size > 0) this.broadcastJson(event, JSON.stringify(data));
  }

  /** The same, with the data already serialised. */
  broadcastJson(event: string, json: string): void {
    const frame = `event: ${event}\ndata: ${json}\n\n`;
    for (const res of this.clients) this.write(res, frame);
  }

  close(): Promise<void> {
    for (const res of this.clients) res.destroy();
    this.clients.clear();
    this.stopKeepalive();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on('error', () => {});
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return this.plain(res, 405, 'only GET\n', { Allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/':
      case '/index.html':
        res.writeHead(200, PAGE_HEADERS);
        return void res.end(method === 'HEAD' ? undefined : PAGE);
      case '/state':
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        return void res.end(method === 'HEAD' ? undefined : JSON.stringify(this.source.snapshot()));
      case '/events':
        return this.subscribe(req, res);
      case '/favicon.ico':
        res.writeHead(204);
        return void res.end();
      default:
        return this.plain(res, 404, 'not found: the live view serves /, /events and /state\n');
    }
  }

  private plain(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }

  private subscribe(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= this.maxClients) {
      this.refused += 1;
      return this.plain(res, 503, `too many live views open (at most ${this.maxClients})\n`, { 'Retry-After': '10' });
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    if (req.method === 'HEAD') return void res.end();
    req.socket.setNoDelay(true);
    this.clients.add(res);
    const gone = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopKeepalive();
    };
    res.on('close', gone);
    req.on('close', gone);
    this.write(res, `retry: ${RETRY_MS}\n\n` + sseFrame('snapshot', this.source.snapshot()) + sseFrame('messages', { messages: this.source.recent(), dropped: 0, replay: true }));
    this.keepalive ??= setInterval(() => {
      for (const c of this.clients) this.write(c, ': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
  }

  private write(res: http.ServerResponse, frame: string): void {
    if (res.destroyed) return void this.clients.delete(res);
    res.write(frame);
    if (res.writableLength > this.maxQueuedBytes) {
      // The page reads too slowly (or not at all): drop it rather than buffer for it.
      this.dropped += 1;
      this.clients.delete(res);
      res.destroy();
    }
  }

  private stopKeepalive(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
  }
}
