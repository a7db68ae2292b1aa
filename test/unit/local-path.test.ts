// Larger store batches between processes of one machine (protocol/wire.ts LocalPath, net/local.ts,
// peer/pipeline.ts): only store frames, only to and from local addresses, only when every member
// of the ring is local; everything else keeps the 1,400-byte limit of a LAN.
import { describe, it, expect } from 'vitest';
import { Wire, type LocalPath } from '../../src/protocol/wire.js';
import { DEFAULT_MAX_PAYLOAD, HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD, decode } from '../../src/protocol/codec.js';
import { Pipeline } from '../../src/peer/pipeline.js';
import { localPath } from '../../src/net/local.js';
import type { MessageOf } from '../../src/protocol/messages.js';

const LOCAL: LocalPath = { payload: 32_768, isLocal: (ip) => ip.startsWith('127.') };
const HERE = { ip: '127.0.0.1', port: 6001 };
const AWAY = { ip: '10.0.0.2', port: 6001 };
const line = (i: number): string => `${100000 + i},1996,storm number ${i},${'x'.repeat(60)}`;

function store(count: number): MessageOf<'store'> {
  return { t: 'store', rid: 7, epoch: 1, to: 3, sec: 'localPathSecretAAAAAAAA', recs: Array.from({ length: count }, (_, i) => line(i)).join('\n') };
}

describe('wire: store batches on a local path', () => {
  it('a store batch to a local address goes as one datagram up to the local payload, and is read back whole', () => {
    const msg = store(300); // ~25 KB
    const out = new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).datagrams(msg, HERE);
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBeGreaterThan(HARD_MAX_PAYLOAD);
    expect(new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).receive(HERE, out[0]!)).toEqual({ ok: true, msg });
  });

  it('the same batch to another machine, or from a wire without a local path, is fragmented at 1,400 bytes', () => {
    const msg = store(300);
    for (const out of [new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).datagrams(msg, AWAY), new Wire(DEFAULT_MAX_PAYLOAD).datagrams(msg, HERE)]) {
      expect(out.length).toBeGreaterThan(1);
      for (const d of out) expect(d.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
    }
  });

  it('other messages never use the local size', () => {
    const setId: MessageOf<'set-id'> = {
      t: 'set-id', rid: 9, id: 1, n: 100, year: 1996, s: 97073, epoch: 1, dht: 1, sec: 'localPathSecretAAAAAAAA',
      peers: Array.from({ length: 100 }, (_, i) => ({ name: `peer${i}`, ip: '127.0.0.1', port: 20000 + i })),
    };
    const out = new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).datagrams(setId, HERE);
    expect(out.length).toBeGreaterThan(1);
    for (const d of out) expect(d.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
  });

  it('a peer that sends no large batches itself (--local-payload 0) still takes them from a local peer, and passes them on in fragments', () => {
    const msg = store(300);
    const bytes = new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).datagrams(msg, HERE)[0]!;
    const small = new Wire(DEFAULT_MAX_PAYLOAD, 1, { ...LOCAL, payload: 0 });
    expect(small.receive(HERE, bytes)).toEqual({ ok: true, msg });
    const onward = small.datagrams(msg, HERE);
    expect(onward.length).toBeGreaterThan(1);
    for (const d of onward) expect(d.length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
  });

  it('a large store frame is refused from another machine, or by a receiver without a local path', () => {
    const bytes = new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).datagrams(store(300), HERE)[0]!;
    expect(new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL).receive(AWAY, bytes)).toEqual({ ok: false, reason: expect.stringMatching(/^oversized/) });
    expect(new Wire(DEFAULT_MAX_PAYLOAD).receive(HERE, bytes)).toEqual({ ok: false, reason: expect.stringMatching(/^oversized/) });
  });

  it('only a framed store batch may exceed 8,192 bytes, and nothing exceeds the local ceiling', () => {
    const padded = Buffer.from(JSON.stringify({ t: 'ack', rid: 1, pad: 'x'.repeat(20_000) }));
    expect(decode(padded, HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD)).toEqual({ ok: false, reason: expect.stringMatching(/^oversized/) });
    const unframed = Buffer.from(JSON.stringify(store(300)));
    expect(decode(unframed, HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD)).toEqual({ ok: false, reason: expect.stringMatching(/^oversized/) });
    const huge = Buffer.from(`{"t":"store","rid":7,"epoch":1,"to":3,"sec":"localPathSecretAAAAAAAA"}\n${'1,'.repeat(LOCAL_MAX_PAYLOAD / 2)}`);
    expect(decode(huge, HARD_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD)).toEqual({ ok: false, reason: expect.stringMatching(/^oversized/) });
  });

  it('loopback addresses count as local, a documentation-range address does not', () => {
    const p = localPath(32_768);
    expect(p.isLocal('127.0.0.1')).toBe(true);
    expect(p.isLocal('127.3.4.5')).toBe(true);
    expect(p.isLocal('192.0.2.77')).toBe(false);
  });
});

describe('pipeline: batch size follows the ring', () => {
  function cut(ips: string[], local?: LocalPath): { sizes: number[]; window: number } {
    const pipe = new Pipeline(64, DEFAULT_MAX_PAYLOAD, local);
    pipe.over(ips);
    for (let i = 0; i < 2000; i++) pipe.push(1, line(i));
    pipe.pushEnd([0]);
    const sizes: number[] = [];
    let window = 0;
    for (;;) {
      const got = pipe.take();
      if (sizes.length === 0) window = got.length;
      if (got.length === 0) break;
      for (const m of got) {
        if (m.t === 'store') sizes.push(Buffer.byteLength(m.recs));
        pipe.acked();
      }
    }
    return { sizes, window };
  }

  it('a ring all on this machine gets batches near the local payload, with the bytes in flight unchanged', () => {
    const { sizes, window } = cut(['127.0.0.1', '127.0.0.1', '127.0.0.2'], LOCAL);
    expect(Math.max(...sizes)).toBeGreaterThan(30_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LOCAL.payload);
    expect(window * LOCAL.payload).toBeLessThanOrEqual(64 * DEFAULT_MAX_PAYLOAD);
  });

  it('one member elsewhere, or no local path, keeps 1,400-byte batches and the full window', () => {
    for (const { sizes, window } of [cut(['127.0.0.1', '10.0.0.2'], LOCAL), cut(['127.0.0.1', '127.0.0.2'])]) {
      expect(Math.max(...sizes)).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
      expect(window).toBe(64);
    }
  });
});
