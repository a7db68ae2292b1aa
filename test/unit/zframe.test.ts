// Compressed store frames (`dht-peer --compress`; protocol/zframe.ts, codec.ts, peer/pipeline.ts,
// peer/compressor.ts): the bytes round-trip through the codec and the wire, every batch the
// leader cuts fits its datagram, every record goes exactly once, and the batch's node refuses
// whatever does not inflate to the records the header promises, with bounded memory.
import { describe, it, expect } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Wire, type LocalPath } from '../../src/protocol/wire.js';
import { DEFAULT_MAX_PAYLOAD, LOCAL_MAX_PAYLOAD, decode, encode } from '../../src/protocol/codec.js';
import { deflateFrame, inflateFrame, isFrame } from '../../src/protocol/zframe.js';
import { FRAME_PATTERN, MAX_FRAME, type MessageOf } from '../../src/protocol/messages.js';
import { ENVELOPE_BYTES, Pipeline } from '../../src/peer/pipeline.js';
import { Compressor, FIRST_FRAME, FIRST_FRAME_NODES } from '../../src/peer/compressor.js';
import { describe as describeMessage } from '../../src/protocol/describe.js';
import { forEachFrameLine, frameLine, toLine } from '../../src/data/line.js';
import { generateSynthetic } from '../../src/data/synthetic.js';

const SEC = 'zframeSecretAAAAAAAAAA';
const LOCAL: LocalPath = { payload: LOCAL_MAX_PAYLOAD, isLocal: (ip) => ip.startsWith('127.') };
const HERE = { ip: '127.0.0.1', port: 6001 };
const records = (n: number, seed = 3): string[] => generateSynthetic(1996, n, seed).map(toLine);

function compressed(lines: string[], extra: Partial<MessageOf<'store'>> = {}): MessageOf<'store'> {
  const d = deflateFrame(lines.map(frameLine).join('\n'));
  return { t: 'store', rid: 7, epoch: 1, to: 3, sec: SEC, recs: d.body, z: d.z, n: lines.length, ...extra } as MessageOf<'store'>;
}

describe('codec: compressed store frames', () => {
  it('round-trips: the header line says z and n, the body is the deflated bytes as they are', () => {
    const msg = compressed(records(400), { of: 2 });
    const bytes = encode(msg);
    const nl = bytes.indexOf(0x0a);
    expect(JSON.parse(bytes.toString('utf8', 0, nl))).toEqual({ t: 'store', rid: 7, epoch: 1, to: 3, sec: SEC, of: 2, z: (msg as { z: number }).z, n: 400 });
    expect(bytes.subarray(nl + 1).equals(Buffer.from(msg.recs, 'latin1'))).toBe(true);
    expect(decode(bytes, LOCAL_MAX_PAYLOAD)).toEqual({ ok: true, msg });
  });

  it('crosses the wire whole on a local path and in fragments at 1,400 bytes, and comes back the same', () => {
    const msg = compressed(records(600));
    const local = new Wire(DEFAULT_MAX_PAYLOAD, 1, LOCAL);
    const one = local.datagrams(msg, HERE);
    expect(one).toHaveLength(1);
    expect(local.receive(HERE, one[0]!)).toEqual({ ok: true, msg });
    const lan = new Wire(DEFAULT_MAX_PAYLOAD);
    const pieces = lan.datagrams(msg, HERE);
    expect(pieces.length).toBeGreaterThan(1);
    const got = pieces.map((d) => lan.receive(HERE, d));
    expect(got[got.length - 1]).toEqual({ ok: true, msg });
  });

  it('the trace line says how many records and that they are compressed', () => {
    const msg = compressed(records(400), { of: 2 }) as MessageOf<'store'> & { z: number };
    expect(describeMessage(msg)).toBe(`store 400 records for node 3 (copies of node 2's) (compressed: ${msg.recs.length} bytes for ${msg.z}) (rid 7)`);
  });

  it('survives JSON (the event log, the simulation) unchanged', () => {
    const msg = compressed(records(50));
    expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
    expect(decode(Buffer.from(JSON.stringify(msg)))).toEqual({ ok: true, msg });
  });

  it('the schema: z needs n, a compressed body is bytes (no character above 0xff), and an uncompressed frame still matches the pattern', () => {
    const msg = compressed(records(5));
    const { n: _n, ...withoutN } = msg as MessageOf<'store'> & { n: number };
    expect(decode(Buffer.from(JSON.stringify(withoutN))).ok).toBe(false);
    expect(decode(Buffer.from(JSON.stringify({ ...msg, recs: 'ĀĀĀ' }))).ok).toBe(false);
    expect(decode(Buffer.from(JSON.stringify({ ...msg, z: MAX_FRAME + 1 }))).ok).toBe(false);
    const plain = { t: 'store', rid: 7, epoch: 1, to: 3, sec: SEC, recs: 'not a record line' };
    expect(decode(encode(plain as MessageOf<'store'>)).ok).toBe(false);
  });
});

describe('zframe: the batch\'s node inflates with a bound and checks the records', () => {
  const lines = records(300);
  const frame = lines.join('\n');
  const good = deflateFrame(frame);

  it('gives back the frame it was given', () => {
    expect(inflateFrame(good.body, good.z, 300)).toEqual({ frame });
  });

  it('refuses a frame whose inflated size differs from z (either way)', () => {
    expect(inflateFrame(good.body, good.z - 1, 300)).toEqual({ error: expect.stringMatching(/beyond its declared/) });
    expect(inflateFrame(good.body, good.z + 1, 300)).toEqual({ error: expect.stringMatching(/not its declared/) });
  });

  it('refuses a deflate bomb after at most z bytes: 64 MB of zeros declared as 1,000 bytes', () => {
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString('latin1');
    expect(bomb.length).toBeLessThan(LOCAL_MAX_PAYLOAD * 4);
    const before = process.memoryUsage().arrayBuffers;
    expect(inflateFrame(bomb, 1000, 1)).toEqual({ error: expect.stringMatching(/beyond its declared 1000 bytes/) });
    expect(inflateFrame(bomb, MAX_FRAME, 1)).toEqual({ error: expect.stringMatching(/beyond its declared/) });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a body that is not deflate, or is cut short', () => {
    expect(inflateFrame(randomBytes(2000).toString('latin1'), 5000, 1)).toEqual({ error: expect.stringMatching(/does not inflate|not its declared|not record lines/) });
    expect(inflateFrame('plain text, not deflate', 5000, 1)).toEqual({ error: expect.any(String) });
    expect(inflateFrame(good.body.slice(0, good.body.length >> 1), good.z, 300)).toEqual({ error: expect.any(String) });
  });

  it('refuses inflated text that is not record lines, or holds another number of records than n', () => {
    const notRecords = deflateFrame('hello\nworld');
    expect(inflateFrame(notRecords.body, notRecords.z, 2)).toEqual({ error: expect.stringMatching(/not record lines/) });
    expect(inflateFrame(good.body, good.z, 299)).toEqual({ error: expect.stringMatching(/300 records, not its declared 299/) });
  });
});

describe('zframe: the frame check in pieces says what the pattern says', () => {
  const pattern = new RegExp(FRAME_PATTERN);
  const big = records(2_000).join('\n');
  it('agrees with the whole-frame pattern on valid frames and on frames broken anywhere', () => {
    expect(big.length).toBeGreaterThan(100_000);
    expect(isFrame(big)).toBe(true);
    const cases = [big, `${big}\n`, `\n${big}`, big.replace('\n', '\n\n'), `${big}\n\n`];
    // An empty line, a line without its event id, or a raw control character, at many places (piece boundaries among them).
    for (let at = 1; at < big.length; at += 977) {
      const nl = big.indexOf('\n', at);
      if (nl < 0) break;
      cases.push(`${big.slice(0, nl)}\n${big.slice(nl)}`, `${big.slice(0, nl + 1)}x${big.slice(nl + 1)}`, `${big.slice(0, at)}"${big.slice(at)}`);
    }
    for (const c of cases) expect(isFrame(c)).toBe(pattern.test(c));
  });
});

describe('pipeline: compressed batches cut by the leader', () => {
  /** Every batch the pipeline sends for `lines` (to destinations 1–3), acknowledged at once. */
  function drain(lines: string[], maxPayload: number, local?: LocalPath): { batches: { to: number; recs: string; count: number; z: number }[]; pipe: Pipeline } {
    const pipe = new Pipeline(8, maxPayload, local, true);
    if (local) pipe.over(['127.0.0.1', '127.0.0.2']);
    lines.forEach((l, i) => pipe.push(1 + (i % 3), l));
    pipe.pushEnd([0]);
    const batches: { to: number; recs: string; count: number; z: number }[] = [];
    for (let guard = 0; guard < 100_000; guard++) {
      const got = pipe.take();
      if (got.length === 0) break;
      for (const m of got) {
        if (m.t === 'store') batches.push({ to: m.to, recs: m.recs, count: m.count, z: m.z! });
        pipe.acked();
      }
      if (got.some((m) => m.t === 'store-end')) break;
    }
    return { batches, pipe };
  }

  /** The datagram each batch makes, with the largest header it can have. */
  const datagram = (b: { to: number; recs: string; count: number; z: number }): Buffer =>
    encode({ t: 'store', rid: 2 ** 48, epoch: 1e9, to: b.to, sec: 'x'.repeat(44), of: 255, recs: b.recs, z: b.z, n: b.count } as MessageOf<'store'>);

  for (const [name, payload, local] of [['1,400 bytes (a LAN)', DEFAULT_MAX_PAYLOAD, undefined], ['65,000 bytes (one machine)', LOCAL_MAX_PAYLOAD, LOCAL]] as const) {
    it(`every batch fits one datagram of ${name}, and every record arrives exactly once, at its node`, () => {
      const lines = records(local ? 30_000 : 3_000);
      const { batches } = drain(lines, payload, local);
      for (const b of batches) expect(datagram(b).length).toBeLessThanOrEqual(payload);
      const node = new Map(lines.map((l, i) => [l, 1 + (i % 3)]));
      const seen: string[] = [];
      for (const b of batches) {
        const got = inflateFrame(b.recs, b.z, b.count);
        if ('error' in got) throw new Error(got.error);
        forEachFrameLine(got.frame, (l) => {
          expect(node.get(l)).toBe(b.to);
          seen.push(l);
        });
      }
      expect(seen.sort()).toEqual([...lines].sort());
      // Several times the records of an uncompressed batch per datagram.
      expect(seen.length / batches.length).toBeGreaterThan((payload / 120) * 2);
    });
  }

  it('a batch that does not fit once compressed is cut again with fewer records (records that stop compressing well)', () => {
    // Compressible records first, so the ratio learnt is high; then records of random text.
    const easy = records(3_000);
    const hard = Array.from({ length: 3_000 }, (_, i) => `${900000 + i},${randomBytes(90).toString('base64')}`);
    const { batches, pipe } = drain([...easy, ...hard], DEFAULT_MAX_PAYLOAD);
    expect(pipe.compressor!.recompressed).toBeGreaterThan(0);
    for (const b of batches) expect(datagram(b).length).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
    expect(batches.reduce((a, b) => a + b.count, 0)).toBe(6_000);
  });

  it('the first nodes get a small first frame (cold code handles it quickly), the others and every later batch full ones', () => {
    const pipe = new Pipeline(8, LOCAL_MAX_PAYLOAD, LOCAL, true);
    pipe.over(['127.0.0.1', '127.0.0.2']);
    const lines = records(60_000);
    lines.forEach((l, i) => pipe.push(1 + (i % 6), l));
    pipe.pushEnd([0]);
    const byNode = new Map<number, { chars: number; body: number }[]>();
    for (let guard = 0; guard < 10_000; guard++) {
      const got = pipe.take();
      if (got.length === 0 || got.some((m) => m.t === 'store-end')) break;
      for (const m of got) {
        if (m.t !== 'store') continue;
        const f = inflateFrame(m.recs, m.z!, m.count);
        if ('error' in f) throw new Error(f.error);
        byNode.set(m.to, [...(byNode.get(m.to) ?? []), { chars: f.frame.length, body: m.recs.length }]);
        pipe.acked();
      }
    }
    const room = LOCAL_MAX_PAYLOAD - ENVELOPE_BYTES - Compressor.HEADER_BYTES;
    for (const [node, batches] of byNode) {
      expect(batches.length).toBeGreaterThan(2);
      if (node <= FIRST_FRAME_NODES) expect(batches[0]!.chars).toBeLessThanOrEqual(FIRST_FRAME);
      else expect(batches[0]!.chars).toBeGreaterThan(FIRST_FRAME * 4);
      // The small first frames did not teach a lower ratio: the batches between a node's first and
      // last fill the datagram as a full batch does.
      for (const b of batches.slice(1, -1)) expect(b.body).toBeGreaterThan(room * 0.8);
    }
    expect([...byNode.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('frames of multi-byte records stay within the frame limit in bytes (the cut counts characters)', () => {
    // Highly compressible lines of 3-byte characters: the character count says a third of the bytes.
    const lines = Array.from({ length: 30_000 }, (_, i) => `${700000 + i},${'雪'.repeat(150)}`);
    const { batches } = drain(lines, LOCAL_MAX_PAYLOAD, LOCAL);
    for (const b of batches) {
      expect(b.z).toBeLessThanOrEqual(MAX_FRAME);
      expect(datagram(b).length).toBeLessThanOrEqual(LOCAL_MAX_PAYLOAD);
      expect('frame' in inflateFrame(b.recs, b.z, b.count)).toBe(true);
    }
    expect(batches.reduce((a, b) => a + b.count, 0)).toBe(30_000);
  });

  it('a record too large for one datagram even compressed still goes, alone', () => {
    const big = `123,${randomBytes(1500).toString('base64')}`.slice(0, 1990);
    const { batches, pipe } = drain([big, ...records(10)], DEFAULT_MAX_PAYLOAD);
    expect(batches.find((b) => b.count === 1 && 'frame' in inflateFrame(b.recs, b.z, 1))).toBeDefined();
    expect(pipe.oversized).toBe(1);
    expect(batches.reduce((a, b) => a + b.count, 0)).toBe(11);
  });

  it('a batch compressed ahead while the window is full (prepare) is the batch that goes next, and changes no batch', () => {
    const lines = records(3_000);
    const run = (ahead: boolean): string[] => {
      const pipe = new Pipeline(2, DEFAULT_MAX_PAYLOAD, undefined, true);
      lines.forEach((l, i) => pipe.push(1 + (i % 3), l));
      pipe.pushEnd([0]);
      const out: string[] = [];
      for (let guard = 0; guard < 10_000; guard++) {
        const got = pipe.take();
        if (got.length === 0) break;
        if (ahead) pipe.prepare();
        for (const m of got) {
          if (m.t === 'store') out.push(`${m.to}:${m.count}:${m.recs}`);
          pipe.acked();
        }
        if (got.some((m) => m.t === 'store-end')) break;
      }
      return out;
    };
    const plain = run(false);
    expect(run(true)).toEqual(plain);
    expect(plain.reduce((a, b) => a + Number(b.split(':')[1]), 0)).toBe(3_000);
  });

  it('forwards a compressed batch as it came', () => {
    const pipe = new Pipeline(8, DEFAULT_MAX_PAYLOAD);
    const msg = compressed(records(20)) as MessageOf<'store'> & { z: number; n: number };
    pipe.pushBatch({ to: 3, recs: msg.recs, count: msg.n, z: msg.z });
    pipe.pushEnd([1]);
    expect(pipe.take()[0]).toEqual({ t: 'store', to: 3, recs: msg.recs, count: 20, z: msg.z });
  });
});
