// Keyed mode's send order (net/shell.ts): a store batch sealed in a turn goes after the acks of
// that turn, never before a later datagram to its own destination, and nothing is lost or changed.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import { ShellIo } from '../../../src/net/shell.js';
import { Keyed } from '../../../src/crypto/seal.js';
import { makeKey } from '../../../src/crypto/keyring.js';
import type { Addr } from '../../../src/reliable/index.js';

const UP: Addr = { ip: '127.0.0.1', port: 31001 };
const DOWN: Addr = { ip: '127.0.0.1', port: 31003 };
const ring = { keys: [makeKey(randomBytes(32))], source: 'test' };

/** A socket that records what is sent, as the receiver at that port would open it. */
function recorder(): { sock: dgram.Socket; sent: { to: number; text: string }[] } {
  const opener = new Keyed(ring);
  const sent: { to: number; text: string }[] = [];
  const sock = {
    send: (parts: Buffer[], port: number, ip: string) => {
      const opened = opener.open(UP, { ip, port }, Buffer.concat(parts));
      if (!opened.ok) throw new Error(opened.reason);
      sent.push({ to: port, text: opened.plain.length > 100 ? `batch ${opened.plain.length}` : opened.plain.toString() });
    },
  } as unknown as dgram.Socket;
  return { sock, sent };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe('keyed sends', () => {
  it('a batch goes after the acks of its turn; a later datagram to its destination waits behind it', async () => {
    const io = new ShellIo({ trace: 'off', chaos: null, keyed: new Keyed(ring) });
    const { sock, sent } = recorder();
    io.sendBytes(sock, DOWN, Buffer.alloc(60_000, 0x61));
    io.sendBytes(sock, DOWN, Buffer.from('store-end'));
    // The core's ack flush, an immediate armed at the end of the input's handling.
    setImmediate(() => io.sendBytes(sock, UP, Buffer.from('ack')));
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual([{ to: UP.port, text: 'ack' }, { to: DOWN.port, text: 'batch 60000' }, { to: DOWN.port, text: 'store-end' }]);
  });

  it('without a key nothing waits', () => {
    const io = new ShellIo({ trace: 'off', chaos: null });
    const sent: number[] = [];
    const sock = { send: (b: Buffer) => sent.push(b.length) } as unknown as dgram.Socket;
    io.sendBytes(sock, DOWN, Buffer.alloc(60_000));
    expect(sent).toEqual([60_000]);
  });
});
