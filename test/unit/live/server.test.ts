// The live view's server (src/live/), talked to with node's own http client: the page, the
// snapshot as JSON, server-sent events (framing, the snapshot on connect and on change, message
// batches with their rate limit), and its bounds (clients refused beyond the maximum, a client
// that stops reading dropped).
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagerCore } from '../../../src/manager/core.js';
import { DEFAULT_RETRY, type Addr } from '../../../src/reliable/index.js';
import { seededRandom } from '../../../src/sim/rng.js';
import { seededSecret } from '../../../src/protocol/secrets.js';
import { LiveView, MAX_BATCH } from '../../../src/live/view.js';
import type { Snapshot } from '../../../src/live/snapshot.js';
import type { Message } from '../../../src/protocol/messages.js';

const views: LiveView[] = [];
afterEach(async () => {
  await Promise.all(views.splice(0).map((v) => v.close()));
});

const peerAddr = (i: number): Addr => ({ ip: '127.0.0.1', port: 6000 + 2 * i });
const bytes = new Uint8Array(0);

/** A manager core with a live view attached, served on a free port of 127.0.0.1. */
async function serve(options: { maxClients?: number; maxQueuedBytes?: number } = {}): Promise<{ core: ManagerCore; view: LiveView; base: string }> {
  const core = new ManagerCore({ waitTimeoutMs: 60_000, retry: DEFAULT_RETRY }, { random: seededRandom(1), secret: seededSecret(seededRandom(101)) });
  const view = new LiveView({ ...options, now: () => 0 });
  views.push(view);
  view.attach(core);
  view.bound(0, { manager: { ip: '127.0.0.1', port: 4000 } });
  const addr = await view.server.listen(0, '127.0.0.1');
  return { core, view, base: `http://127.0.0.1:${addr.port}` };
}

/** Deliver a command to the core as the interpreter would, telling the view of it and of the answer. */
function command(core: ManagerCore, view: LiveView, i: number, cmd: string, args: string[], rid: number): void {
  // The token the manager gave this peer at register, on every later command, as a real peer sends it.
  const tok = cmd === 'register' ? undefined : core.peers.get(`peer${i}`)?.token;
  const msg: Message = { t: 'cmd', rid, cmd, args, ...(tok !== undefined ? { tok } : {}) };
  const effects = core.handle(1, { kind: 'datagram', from: peerAddr(i), msg });
  view.receive(1, peerAddr(i), msg, bytes);
  for (const e of effects) if (e.kind === 'send') view.send(2, e.to, e.msg, [bytes], e.attempt);
}

const register = (core: ManagerCore, view: LiveView, i: number): void =>
  command(core, view, i, 'register', [`peer${i}`, '127.0.0.1', String(peerAddr(i).port), String(peerAddr(i).port + 1)], 100 + i);

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

interface Sse { event: string; data: unknown }

/** An open event stream: every event parsed as it arrives; `next(event)` waits for the next of a kind. */
class Stream {
  readonly events: Sse[] = [];
  readonly raw: string[] = [];
  status = 0;
  contentType = '';
  private buffer = '';
  private read = 0;
  private wake: (() => void) | null = null;
  private req: http.ClientRequest | null = null;

  static open(url: string): Promise<Stream> {
    const s = new Stream();
    return new Promise((resolve, reject) => {
      s.req = http.get(url, (res) => {
        s.status = res.statusCode ?? 0;
        s.contentType = String(res.headers['content-type']);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => s.onData(chunk));
        resolve(s);
      });
      s.req.on('error', reject);
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.raw.push(frame);
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (event) this.events.push({ event, data: JSON.parse(data) });
    }
    this.wake?.();
  }

  async next(event: string, timeoutMs = 5000): Promise<Sse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.events.length) {
        const e = this.events[this.read++]!;
        if (e.event === event) return e;
      }
      if (Date.now() > deadline) throw new Error(`no '${event}' event within ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.req?.destroy();
  }
}

describe('live view: HTTP', () => {
  it('GET / is one self-contained page: inline script and style, nothing fetched from anywhere', async () => {
    const { base } = await serve();
    const res = await get(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).toContain('new EventSource("/events")');
    // The only URL is the SVG namespace, which names rather than fetches.
    expect(res.body.match(/https?:\/\/[^"'\s]*/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(res.body).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/);
  });

  it('GET /state is the snapshot: peers with state and addresses, then the DHT with members, leader and counts', async () => {
    const { core, view, base } = await serve();
    expect(JSON.parse((await get(`${base}/state`)).body)).toEqual({ manager: { ip: '127.0.0.1', port: 4000 }, peers: [], peersOmitted: 0, dht: null });
    for (let i = 1; i <= 3; i++) register(core, view, i);
    command(core, view, 1, 'setup-dht', ['peer1', '3', '1950'], 200);
    const building = JSON.parse((await get(`${base}/state`)).body) as Snapshot;
    expect(building.peers.map((p) => [p.name, p.state, p.mport, p.pport])).toEqual([['peer1', 'Leader', 6002, 6003], ['peer2', 'InDHT', 6004, 6005], ['peer3', 'InDHT', 6006, 6007]]);
    expect(building.dht).toMatchObject({ phase: 'building', leader: 'peer1', year: 1950, operation: 'setting up: peer1' });
    expect(building.dht!.counts).toBeUndefined();
    const members = building.dht!.members;
    core.handle(3, { kind: 'datagram', from: peerAddr(1), msg: { t: 'cmd', rid: 201, cmd: 'dht-complete', args: ['peer1'], counts: [72, 75, 76], tok: core.peers.get('peer1')!.token } });
    const ready = JSON.parse((await get(`${base}/state`)).body) as Snapshot;
    expect(ready.dht).toEqual({ id: 1, phase: 'ready', year: 1950, leader: 'peer1', members, counts: [72, 75, 76], operation: null });
  });

  it('anything else is 404, other methods 405', async () => {
    const { base } = await serve();
    expect((await get(`${base}/nothing`)).status).toBe(404);
    const status = await new Promise<number>((resolve, reject) => {
      http.request(`${base}/`, { method: 'POST' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end('x');
    });
    expect(status).toBe(405);
  });

  it('a port in use is a one-line error', async () => {
    const { base } = await serve();
    const port = Number(new URL(base).port);
    const other = new LiveView();
    await expect(other.server.listen(port, '127.0.0.1')).rejects.toThrow(/^127\.0\.0\.1:\d+ is already in use \(EADDRINUSE\)$/);
    await other.close();
  });
});

describe('live view: server-sent events', () => {
  it('frames each event as event/data lines; a snapshot and the recent messages on connect, then batches and changed snapshots', async () => {
    const { core, view, base } = await serve();
    register(core, view, 1);
    view.flush();
    const s = await Stream.open(`${base}/events`);
    expect(s.status).toBe(200);
    expect(s.contentType).toBe('text/event-stream; charset=utf-8');
    const first = await s.next('snapshot');
    expect(s.raw[0]).toBe('retry: 2000');
    expect(s.raw[1]).toMatch(/^event: snapshot\ndata: \{.*\}$/);
    expect((first.data as Snapshot).peers.map((p) => p.name)).toEqual(['peer1']);
    const replay = (await s.next('messages')).data as { messages: { dir: string; t: string; peer: string | null; cmd?: string; code?: string }[]; replay: boolean };
    expect(replay.replay).toBe(true);
    expect(replay.messages.map((m) => [m.dir, m.t, m.cmd, m.code ?? null])).toEqual([['in', 'cmd', 'register', null], ['out', 'res', 'register', 'SUCCESS']]);

    register(core, view, 2);
    const batch = (await s.next('messages')).data as { messages: { dir: string; peer: string | null; text: string }[]; dropped: number; sent: number; received: number };
    // Named as the interpreter names it: after the core has seen the message, so a registering peer is known.
    expect(batch.messages.map((m) => [m.dir, m.peer])).toEqual([['in', 'peer2'], ['out', 'peer2']]);
    expect(batch.messages[0]!.text).toBe('register peer2 127.0.0.1 6004 6005 (rid 102)');
    expect(batch).toMatchObject({ dropped: 0, received: 2, sent: 2 });
    const changed = (await s.next('snapshot')).data as Snapshot;
    expect(changed.peers.map((p) => p.name)).toEqual(['peer1', 'peer2']);

    // Nothing changed: no new snapshot, however often the view flushes.
    view.flush();
    view.flush();
    await new Promise((r) => setTimeout(r, 150));
    expect(s.events.filter((e) => e.event === 'snapshot')).toHaveLength(2);
    s.close();
  });

  it(`a flood is batched: at most ${MAX_BATCH} messages an event, the rest counted as dropped`, async () => {
    const { view, base } = await serve();
    const s = await Stream.open(`${base}/events`);
    await s.next('messages');
    for (let i = 0; i < 1000; i++) view.receive(0, { ip: '10.0.0.9', port: 9999 }, { t: 'ack', rid: i }, bytes);
    const batch = (await s.next('messages')).data as { messages: unknown[]; dropped: number };
    expect(batch.messages).toHaveLength(MAX_BATCH);
    expect(batch.dropped).toBe(1000 - MAX_BATCH);
    expect(view.notShown).toBe(1000 - MAX_BATCH);
    s.close();
  });

  it('at most maxClients streams: one more is refused with 503, and a place frees when a page goes', async () => {
    const { view, base } = await serve({ maxClients: 2 });
    const a = await Stream.open(`${base}/events`);
    const b = await Stream.open(`${base}/events`);
    await Promise.all([a.next('snapshot'), b.next('snapshot')]);
    const refused = await get(`${base}/events`);
    expect(refused.status).toBe(503);
    expect(refused.body).toBe('too many live views open (at most 2)\n');
    expect(view.server.refused).toBe(1);
    a.close();
    for (let i = 0; i < 100 && view.server.clientCount > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const c = await Stream.open(`${base}/events`);
    expect(c.status).toBe(200);
    b.close();
    c.close();
  });

  it('a page that stops reading is dropped once its unsent bytes pass the bound, never buffered for', async () => {
    const { view, base } = await serve({ maxQueuedBytes: 256 * 1024 });
    const stalled = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${base}/events`, (res) => {
        res.pause(); // reads nothing more: the socket buffers fill, then the server's queue grows
        resolve(res);
      }).on('error', reject);
    });
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 2000 && view.server.dropped === 0; i++) {
      view.server.broadcast('filler', big);
      await new Promise((r) => setImmediate(r));
    }
    expect(view.server.dropped).toBe(1);
    expect(view.server.clientCount).toBe(0);
    stalled.destroy();
  });
});
