// The two programs as a person meets them: --help, wrong arguments, a missing data file,
// console typos, garbage datagrams, end of input and signals. Every wait is on an output line.
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, type DrivenProcess } from '../../src/scenario/driver.js';
import { run } from './helpers.js';

const started: DrivenProcess[] = [];
function start(...args: Parameters<typeof run>): DrivenProcess {
  const p = run(...args);
  started.push(p);
  return p;
}

afterEach(async () => {
  for (const p of started) p.kill();
  await Promise.all(started.splice(0).map((p) => p.exited));
});

const STACK_FRAME = /^\s+at /;

async function sendRaw(port: number, payload: string | Buffer): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  s.close();
}

async function startManager(): Promise<{ manager: DrivenProcess; port: number }> {
  const [port] = await freePorts(1);
  const manager = start('dht-manager', [String(port)], 'manager');
  await manager.waitFor(/^manager: listening on 0\.0\.0\.0:\d+$/);
  return { manager, port: port! };
}

describe('--help', () => {
  it.each(['dht-manager', 'dht-peer'] as const)('%s --help prints usage and exits 0', async (program) => {
    const p = start(program, ['--help']);
    expect(await p.exited).toBe(0);
    expect(p.lines[0]).toMatch(new RegExp(`^usage: ${program} `));
    expect(p.lines.some((l) => l.includes('--trace'))).toBe(true);
  });
});

describe('wrong arguments: one line, the usage, exit 2, no stack trace', () => {
  const cases: [('dht-manager' | 'dht-peer'), string[], RegExp][] = [
    ['dht-manager', [], /^dht-manager: expected 1 argument/],
    ['dht-manager', ['99999'], /^dht-manager: port '99999' is not a port/],
    ['dht-manager', ['5000', '--bind', 'nowhere'], /^dht-manager: --bind 'nowhere'/],
    ['dht-manager', ['5000', '--frobnicate'], /^dht-manager: Unknown option '--frobnicate'/],
    ['dht-manager', ['5000', '--wait-timeout', 'soon'], /^dht-manager: --wait-timeout must be/],
    ['dht-manager', ['5000', '--http', '70000'], /^dht-manager: --http must be a whole number from 0 to 65535/],
    ['dht-manager', ['5000', '--http', '8080', '--http-bind', 'everywhere'], /^dht-manager: --http-bind 'everywhere' is not a dotted-decimal IPv4/],
    ['dht-manager', ['5000', '--http-bind', '127.0.0.1'], /^dht-manager: --http-bind needs --http PORT/],
    ['dht-peer', ['localhost'], /^dht-peer: expected 2 arguments/],
    ['dht-peer', ['300.1.2.3', '5000'], /^dht-peer: '300\.1\.2\.3' is not a dotted-decimal IPv4/],
    ['dht-peer', ['localhost', '5000', '--trace', 'loud'], /^dht-peer: --trace must be one of/],
    ['dht-peer', ['localhost', '5000', '--chaos', 'loss=2'], /^dht-peer: --chaos 'loss=2': loss must be a probability/],
    ['dht-peer', ['localhost', '5000', '--window', '0'], /^dht-peer: --window must be a whole number/],
    ['dht-peer', ['localhost', '5000', '--compress', 'yes'], /^dht-peer: --compress must be one of auto, on, off/],
  ];
  it.each(cases)('%s %j', async (program, args, first) => {
    const p = start(program, args);
    expect(await p.exited).toBe(2);
    expect(p.lines[0]).toMatch(first);
    expect(p.lines[1]).toMatch(new RegExp(`^usage: ${program} `));
    expect(p.lines.some((l) => STACK_FRAME.test(l))).toBe(false);
  });

  it('a bad DHT_CHAOS in the environment is a usage error too', async () => {
    const { startProcess } = await import('../../src/scenario/driver.js');
    const { binPath } = await import('../../src/scenario/system.js');
    const p = startProcess('peer', process.execPath, [binPath('dht-peer'), 'localhost', '5000'], { ...process.env, DHT_CHAOS: 'drop=0.1' });
    started.push(p);
    expect(await p.exited).toBe(2);
    expect(p.lines[0]).toMatch(/^dht-peer: DHT_CHAOS 'drop=0\.1': unknown key 'drop'/);
  });
});

describe('the manager', () => {
  it('reports a port in use in one line and exits 1', async () => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '0.0.0.0', () => resolve()));
    try {
      const p = start('dht-manager', [String(holder.address().port)]);
      expect(await p.exited).toBe(1);
      expect(p.lines).toHaveLength(1);
      expect(p.lines[0]).toMatch(/^dht-manager: cannot listen: 0\.0\.0\.0:\d+ is already in use/);
    } finally {
      holder.close();
    }
  });

  it('reports a live-view port in use (--http) in one line and exits 1', async () => {
    const http = await import('node:http');
    const holder = http.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    try {
      const [port] = await freePorts(1);
      const httpPort = (holder.address() as { port: number }).port;
      const p = start('dht-manager', [String(port), '--http', String(httpPort)]);
      expect(await p.exited).toBe(1);
      expect(p.lines).toEqual([`dht-manager: cannot serve the live view (--http): 127.0.0.1:${httpPort} is already in use (EADDRINUSE)`]);
    } finally {
      holder.close();
    }
  });

  it('logs malformed datagrams and keeps working', async () => {
    const { manager, port } = await startManager();
    await sendRaw(port, 'hello, manager');
    expect(await manager.waitFor(/^bad datagram from 127\.0\.0\.1:\d+: /)).toMatch(/not JSON$/);
    await sendRaw(port, JSON.stringify({ t: 'cmd', rid: 'seven', cmd: 'register', args: [] }));
    expect(await manager.waitFor(/^bad datagram from /)).toMatch(/bad cmd: /);
    await sendRaw(port, JSON.stringify({ t: 'launch-missiles', rid: 1 }));
    expect(await manager.waitFor(/^bad datagram from /)).toMatch(/unknown message type "launch-missiles"/);
    // Still serving: a peer registers, and the console answers.
    const [m, p] = await freePorts(2);
    const peer = start('dht-peer', ['127.0.0.1', String(port)], 'peer');
    peer.send(`register peer1 127.0.0.1 ${m} ${p}`);
    await peer.waitFor(/^register: SUCCESS/);
    manager.send('status');
    await manager.waitFor(/^DHT: none$/);
    expect(await manager.waitFor(/^ {2}peer1 /)).toContain(`m-port ${m}`);
  });

  it('keeps serving after its input ends, and exits 143 on SIGTERM', async () => {
    const { manager, port } = await startManager();
    manager.endInput();
    await sendRaw(port, 'still there?');
    await manager.waitFor(/^bad datagram from /);
    expect(manager.exitCode).toBeNull();
    manager.kill('SIGTERM');
    expect(await manager.exited).toBe(143);
  });

  it('drops a console line too long to be a command in one line, and runs the next', async () => {
    const { manager } = await startManager();
    manager.send('x'.repeat(300_000));
    expect(await manager.waitFor(/^console: a line of more than/)).toMatch(/^console: a line of more than 65536 characters \(\d+ so far, no newline\) was dropped$/);
    manager.send('status');
    await manager.waitFor(/^DHT: none$/);
    expect(manager.exitCode).toBeNull();
  });

  it('answers console typos with usage help', async () => {
    const { manager } = await startManager();
    manager.send('stauts');
    expect(await manager.waitFor(/^unknown command/)).toBe("unknown command 'stauts' — did you mean 'status'? (type help for the list)");
    manager.send('help');
    await manager.waitFor(/^ {2}quit /);
  });
});

describe('a peer', () => {
  it('answers console typos and wrong arguments with usage help', async () => {
    const { port } = await startManager();
    const peer = start('dht-peer', ['localhost', String(port)], 'peer');
    peer.send('regster peer1 127.0.0.1 5001 5002');
    expect(await peer.waitFor(/^unknown command/)).toContain("did you mean 'register'?");
    peer.send('register peer1 127.0.0.1 5001');
    expect(await peer.waitFor(/^register: /)).toMatch(/expected 4 arguments, got 3 — usage: register <peer-name> <IPv4> <m-port> <p-port>$/);
    peer.send('setup-dht 1peer 3 1996');
    expect(await peer.waitFor(/^setup-dht: /)).toMatch(/'1peer' is not a peer name/);
    expect(peer.lines.some((l) => STACK_FRAME.test(l))).toBe(false);
  });

  it('with no data file, setup-dht prints a local error and sends nothing', async () => {
    const { manager, port } = await startManager();
    const empty = mkdtempSync(join(tmpdir(), 'ringdht-nodata-'));
    const peer = start('dht-peer', ['127.0.0.1', String(port), '--data-dir', empty], 'peer');
    const [m, p] = await freePorts(2);
    peer.send(`register peer1 127.0.0.1 ${m} ${p}`);
    await peer.waitFor(/^register: SUCCESS/);
    await manager.waitFor(/^register peer1 /);
    peer.send('setup-dht peer1 3 1950');
    expect(await peer.waitFor(/^setup-dht: /)).toMatch(new RegExp(`^setup-dht: no data file for 1950 in ${empty}.*\\(nothing was sent\\)$`));
    // The next request goes out on the same socket after it; once the manager has answered it,
    // a setup-dht sent before would have been logged already.
    peer.send('query-dht peer1 5536849');
    await peer.waitFor(/^query-dht: FAILURE NO_DHT/);
    await manager.waitFor(/^query-dht peer1: FAILURE NO_DHT/);
    expect(manager.lines.filter((l) => l.includes('setup-dht'))).toEqual([]);
  });

  it('warns in one line at start-up when its data directory does not exist, and keeps working', async () => {
    const { port } = await startManager();
    const missing = join(mkdtempSync(join(tmpdir(), 'ringdht-nodir-')), 'no-such-dir');
    const peer = start('dht-peer', ['127.0.0.1', String(port), '--data-dir', missing], 'peer');
    const warning = await peer.waitFor(/^warning: data directory /);
    expect(warning).toMatch(new RegExp(`^warning: data directory ${missing} \\(from --data-dir\\) does not exist; .*\\$DHT_DATA_DIR`));
    peer.send('status');
    expect(await peer.waitFor(/^status: /)).toMatch(/Free|not registered/);
    expect(peer.lines.filter((l) => l.startsWith('warning: '))).toHaveLength(1);
  });

  it('logs a malformed datagram on its p-port and keeps working', async () => {
    const { port } = await startManager();
    const peer = start('dht-peer', ['127.0.0.1', String(port)], 'peer');
    const [m, p] = await freePorts(2);
    peer.send(`register peer1 127.0.0.1 ${m} ${p}`);
    await peer.waitFor(/^register: SUCCESS/);
    await sendRaw(p!, Buffer.from([0xff, 0x00, 0x13]));
    await peer.waitFor(/^bad datagram from 127\.0\.0\.1:\d+: not JSON$/);
    peer.send('status');
    expect(await peer.waitFor(/^status: /)).toMatch(/^status: peer1 at 127\.0\.0\.1 .*Free/);
    peer.send(`deregister peer1`);
    await peer.waitFor(/^deregister: SUCCESS/);
    expect(await peer.exited).toBe(0);
  });
});
