// The event log writer: one JSON line per event, in order, with what matching needs, bounded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog, hashMessage } from '../../../src/eventlog/index.js';
import { encode, decode } from '../../../src/protocol/codec.js';
import { Wire } from '../../../src/protocol/wire.js';
import type { Message } from '../../../src/protocol/messages.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringdht-eventlog-'));
  dirs.push(dir);
  return join(dir, 'peer1.log');
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const lines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

const M = { ip: '127.0.0.1', port: 5001 };
const P = { ip: '127.0.0.1', port: 5002 };
const MANAGER = { ip: '127.0.0.1', port: 4000 };

describe('EventLog', () => {
  it('writes a header, then each event as one JSON line in order', async () => {
    const file = tempFile();
    const log = new EventLog({ file, proc: 'peer1', now: 10 });
    log.console(11, 'register peer1 127.0.0.1 5001 5002');
    log.bound(12, { m: M, p: P });
    const cmd: Message = { t: 'cmd', rid: 7, cmd: 'register', args: ['peer1', '127.0.0.1', '5001', '5002'] };
    log.send(13, MANAGER, cmd, encode(cmd), 1, 'm');
    log.send(14.5, MANAGER, cmd, encode(cmd), 2, 'm');
    const res: Message = { t: 'res', rid: 7, cmd: 'register', code: 'SUCCESS', text: 'ok' };
    log.receive(15, MANAGER, res, encode(res).length, undefined, 'm');
    log.timer(16);
    log.print(17, 'register: SUCCESS');
    await log.close();
    log.print(18, 'after close: not recorded');
    const out = lines(file);
    expect(out.map((l) => l.k)).toEqual(['header', 'console', 'state', 'send', 'send', 'recv', 'timer', 'print']);
    expect(out[0]).toMatchObject({ k: 'header', v: 1, proc: 'peer1', t: 10, pid: process.pid });
    expect(Number.isNaN(Date.parse(out[0]!.wall as string))).toBe(false);
    expect(out[3]).toMatchObject({ type: 'cmd', rid: 7, cmd: 'register', src: '127.0.0.1:5001', dst: '127.0.0.1:4000', h: hashMessage(cmd), len: encode(cmd).length });
    expect(out[3]!.try).toBeUndefined();
    expect(out[4]!.try).toBe(2);
    expect(out[5]).toMatchObject({ k: 'recv', type: 'res', src: '127.0.0.1:4000', dst: '127.0.0.1:5001', cmd: 'register' });
  });

  it('hashes a message the same at both ends, whatever the datagrams', () => {
    const msg: Message = { t: 'store', rid: 3, epoch: 1, to: 1, recs: '123,a,"b, c"\n456,é,x' };
    const decoded = decode(encode(msg));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(hashMessage(decoded.msg as Message)).toBe(hashMessage(msg));
    expect(hashMessage({ ...msg, rid: 4 })).not.toBe(hashMessage(msg));
    expect(hashMessage(msg)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('hashes the datagram it is given as the encoding, and a fragmented message as a whole', async () => {
    const file = tempFile();
    const log = new EventLog({ file, proc: 'peer1', now: 0, sockets: { m: M, p: P } });
    const msg: Message = { t: 'store', rid: 9, epoch: 2, recs: ['1,Montréal,"x, y"', `2,${'b'.repeat(300)},c`] };
    const wire = new Wire(120);
    const frags = wire.datagrams(msg);
    expect(frags.length).toBeGreaterThan(1);
    log.send(1, P, msg, [encode(msg)], 1, 'p'); // one datagram: its bytes
    log.send(2, P, msg, frags, 1, 'p'); // fragments: the message encoded again
    log.receive(3, P, msg, encode(msg), undefined, 'p');
    log.receive(4, P, msg, frags[frags.length - 1]!, undefined, 'p'); // the datagram that completed it
    await log.close();
    expect(new Set(lines(file).slice(1).map((l) => l.h))).toEqual(new Set([hashMessage(msg)]));
  });

  it('names the query id and the number of fragments', async () => {
    const file = tempFile();
    const log = new EventLog({ file, proc: 'peer6', now: 0, sockets: { m: M, p: P } });
    const find: Message = { t: 'find-event', rid: 1, qid: 99, eventId: 5, sender: { name: 'peer6', ip: '127.0.0.1', port: 5002 }, remaining: null, idSeq: [] };
    log.send(1, { ip: '127.0.0.1', port: 5010 }, find, [Buffer.alloc(1400), Buffer.alloc(700)], 1, 'p');
    await log.close();
    expect(lines(file)[1]).toMatchObject({ type: 'find-event', qid: 99, dg: 2, len: 2100, src: '127.0.0.1:5002' });
  });

  it('stops at its size bound with one line saying so', async () => {
    const file = tempFile();
    const log = new EventLog({ file, proc: 'manager', now: 0, maxBytes: 2000 });
    for (let i = 0; i < 100; i++) log.print(i, `line ${i} ${'x'.repeat(40)}`);
    await log.close();
    const out = lines(file);
    expect(out[out.length - 1]).toMatchObject({ k: 'full' });
    expect(out.filter((l) => l.k === 'full')).toHaveLength(1);
    expect(readFileSync(file).length).toBeLessThan(2000 + 200);
    expect(out.length).toBeLessThan(40);
  });

  it('appends: a restarted process adds a second header to the same file', async () => {
    const file = tempFile();
    for (const now of [1, 2]) {
      const log = new EventLog({ file, proc: 'peer1', now });
      log.print(now, 'hello');
      await log.close();
    }
    expect(lines(file).map((l) => l.k)).toEqual(['header', 'print', 'header', 'print']);
  });
});
