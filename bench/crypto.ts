// `npm run bench:crypto`: what keyed mode costs per datagram. A 1,400-byte store datagram of
// synthetic 1996 records: its plain encode + decode (the codec, as every datagram pays today)
// against seal + open (src/crypto/seal.ts), and the two AEADs node:crypto offers, each alone;
// then AES-256-GCM on a 100-byte datagram and the cipher objects' creation alone, which show
// that the cost is per call into node:crypto, hardly per byte. Then the same calls *cold*, as a
// peer makes them: each seal and each open after other work (8 MB of memory touched and a JSON
// parse, as a peer handling a 60 KB store batch between two datagrams does), for a 60 KB local
// store batch and a 30-byte ack, against the plain codec under the same conditions.
// CPU µs per datagram; rounds alternate between the candidates so that load from other processes
// hits all alike; the median round is reported. Prints a table and writes bench/out/crypto.json.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode, encode } from '../src/protocol/codec.js';
import type { MessageOf } from '../src/protocol/messages.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { toLine } from '../src/data/line.js';
import { Keyed, SEAL_OVERHEAD } from '../src/crypto/seal.js';
import { makeKey } from '../src/crypto/keyring.js';
import { repoRoot } from '../src/scenario/system.js';

const PAYLOAD = 1400;
const PER_ROUND = 5000;
const ROUNDS = 15;
/** Datagrams of a 1996 n = 5 setup with 1,400-byte batches (docs/BENCHMARKS.md: 5,388; ~6,000 with retransmissions and acks). */
const SETUP_DATAGRAMS = 6000;
/** That setup's wall time and CPU time over all processes, on an idle machine (docs/BENCHMARKS.md). */
const SETUP_MS = 274;
const SETUP_CPU_MS = 530;
/**
 * The same setup with 60 KB local batches (the default on one machine): ~110 store datagrams of
 * up to 60 KB and ~90 small ones (acks, liveness, commands), ~500 ms of the peers' CPU
 * (`node dist/bench/variants.js`, medians at load 5-8, 2 Dec 2026).
 */
const LOCAL_STORES = 110;
const LOCAL_SMALL = 90;
const LOCAL_CPU_MS = 500;
const COLD_ROUNDS = 400;

/** A store batch filled with record lines up to PAYLOAD bytes, as the leader sends them. */
function storeDatagram(): Buffer {
  const lines = generateSynthetic(1996, 200).map(toLine);
  const kept: string[] = [];
  const msg = (): MessageOf<'store'> => ({ t: 'store', rid: 123456789, epoch: 1, to: 1, sec: 'AAAAAAAAAAAAAAAAAAAAAA', recs: kept.join('\n') });
  for (const line of lines) {
    kept.push(line);
    if (encode(msg()).length > PAYLOAD) {
      kept.pop();
      break;
    }
  }
  return encode(msg());
}

function aeadRoundTrip(cipher: string, key: KeyObject, aad: Buffer, plain: Buffer, i: number): void {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(i, 8);
  const c = createCipheriv(cipher as 'aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const body = c.update(plain);
  c.final();
  const d = createDecipheriv(cipher as 'aes-256-gcm', key, nonce, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(c.getAuthTag());
  d.update(body);
  d.final();
}

function main(): void {
  const bytes = storeDatagram();
  const msg = decode(bytes);
  if (!msg.ok) throw new Error(msg.reason);
  const secret = randomBytes(32);
  const key = createSecretKey(secret);
  const aad = randomBytes(27 + 7);
  const small = bytes.subarray(0, 100);
  const to = { ip: '127.0.0.1', port: 31002 };
  const from = { ip: '127.0.0.1', port: 31001 };
  const ring = { keys: [makeKey(secret)], source: 'bench' };
  const sender = new Keyed(ring);
  const receiver = new Keyed(ring);
  let n = 0;
  const candidates: Record<string, () => void> = {
    'plain encode + decode': () => void decode(encode(msg.msg)),
    'seal + open (keyed mode)': () => {
      const r = receiver.open(from, to, sender.seal(to, bytes));
      if (!r.ok) throw new Error(r.reason);
    },
    'AES-256-GCM alone': () => aeadRoundTrip('aes-256-gcm', key, aad, bytes, n++),
    // The same for a 100-byte datagram: what is left is per call (objects, buffers), not per byte.
    'AES-256-GCM, 100 bytes': () => aeadRoundTrip('aes-256-gcm', key, aad, small, n++),
    // Creating the two cipher objects only: the share no reuse of buffers can remove.
    'cipher objects only': () => {
      const nonce = Buffer.alloc(12);
      nonce.writeUInt32BE(n++, 8);
      createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
      createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    },
    'ChaCha20-Poly1305 alone': () => aeadRoundTrip('chacha20-poly1305', key, aad, bytes, n++),
  };
  const rounds: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [name, run] of Object.entries(candidates)) {
      // CPU time, not wall time: on a shared machine waiting for a core is not the datagram's cost.
      const t0 = process.cpuUsage();
      for (let i = 0; i < PER_ROUND; i++) run();
      const cpu = process.cpuUsage(t0);
      const us = (cpu.user + cpu.system) / PER_ROUND;
      if (r >= 2) rounds[name]!.push(us); // two warm-up rounds
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const us = Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs)]));
  const keyed = us['seal + open (keyed mode)']!;
  const plain = us['plain encode + decode']!;
  const setupCpuMs = (keyed * SETUP_DATAGRAMS) / 1000;
  console.log(`crypto bench: ${bytes.length}-byte store datagram (+${SEAL_OVERHEAD} sealed), ${ROUNDS} rounds of ${PER_ROUND}, median; ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(2)}`);
  for (const [name, v] of Object.entries(us)) console.log(`  ${name.padEnd(28)} ${v.toFixed(2).padStart(7)} µs of CPU per datagram`);
  // The setup is CPU-bound on 2 cores (530 ms of CPU in 274 ms), so its time grows about as its CPU does.
  console.log(`  a 1996 n = 5 setup (~${SETUP_DATAGRAMS} datagrams, ${SETUP_CPU_MS} ms of CPU in ${SETUP_MS} ms): ` +
    `+${setupCpuMs.toFixed(0)} ms of CPU, +${((100 * setupCpuMs) / SETUP_CPU_MS).toFixed(0)} %; keyed costs ${(keyed / plain).toFixed(2)}× the plain codec per datagram`);
  const cold = coldCosts(ring, to, from);
  console.log(`cold (each call after other work, ${COLD_ROUNDS} alternated, median µs of CPU):`);
  for (const [name, v] of Object.entries(cold)) console.log(`  ${name.padEnd(28)} ${v.toFixed(1).padStart(7)} µs`);
  const coldSetupMs = (LOCAL_STORES * cold['seal + open, 60 KB']! + LOCAL_SMALL * cold['seal + open, 30 B']!) / 1000;
  console.log(`  a 1996 n = 5 setup with local batches (~${LOCAL_STORES} store + ~${LOCAL_SMALL} small datagrams, ~${LOCAL_CPU_MS} ms of peers' CPU): ` +
    `+${coldSetupMs.toFixed(0)} ms of CPU cold, +${((100 * coldSetupMs) / LOCAL_CPU_MS).toFixed(0)} % (what the calls themselves cost; BENCHMARKS: what else keyed mode costs)`);
  const loaded = os.loadavg()[0]! > os.cpus().length;
  // Others' load slows every candidate alike (rounds alternate), so the ratios hold; the µs do not.
  if (loaded) console.log('  WARNING: the machine is loaded: compare the ratios, not the µs, with other runs');
  const out = path.join(repoRoot(), 'bench', 'out');
  mkdirSync(out, { recursive: true });
  const result = { loaded, datagramBytes: bytes.length, sealOverhead: SEAL_OVERHEAD, cpuMicrosecondsPerDatagram: us, keyedOverPlain: keyed / plain, setupDatagrams: SETUP_DATAGRAMS, setupExtraCpuMs: setupCpuMs, coldMicroseconds: cold, localSetupExtraCpuMsCold: coldSetupMs, node: process.version, cpu: os.cpus()[0]?.model, load1: os.loadavg()[0] };
  writeFileSync(path.join(out, 'crypto.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${path.join('bench', 'out', 'crypto.json')}`);
}

/** A store batch of synthetic 1996 records up to `bytes` (a local batch: 60 KB). */
function bigStore(bytes: number): Buffer {
  const lines = generateSynthetic(1996, 2000).map(toLine);
  let recs = '';
  for (const line of lines) {
    if (recs.length + line.length + 200 > bytes) break;
    recs += (recs ? '\n' : '') + line;
  }
  return encode({ t: 'store', rid: 123456789, epoch: 1, to: 1, sec: 'AAAAAAAAAAAAAAAAAAAAAA', recs });
}

/**
 * Median CPU µs of one seal + one open (and of the plain codec's encode + decode), each call
 * made after other work, as in a peer: there every call into node:crypto finds its code and
 * data out of the caches, and much of node:crypto's JavaScript not yet optimised.
 */
function coldCosts(ring: { keys: ReturnType<typeof makeKey>[]; source: string }, to: { ip: string; port: number }, from: { ip: string; port: number }): Record<string, number> {
  const big = bigStore(60_000);
  const ack = Buffer.from('{"t":"ack","rid":123456789}');
  const bigMsg = decode(big, 65_000, 65_000);
  if (!bigMsg.ok) throw new Error(bigMsg.reason);
  const junk = JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ a: i, b: `x${i}`, c: [i, i * 2] })));
  const scratch = new Uint8Array(8 << 20);
  let sink = 0;
  const otherWork = (i: number): void => {
    sink += (JSON.parse(junk) as unknown[]).length;
    scratch.fill(i & 0xff);
  };
  const sender = new Keyed(ring);
  const receiver = new Keyed(ring);
  const cpu = (f: () => void): number => {
    const t0 = process.cpuUsage();
    f();
    const u = process.cpuUsage(t0);
    return u.user + u.system;
  };
  const sealOpen = (plain: Buffer) => (i: number): number => {
    otherWork(i);
    let sealed: Buffer | null = null;
    const s = cpu(() => void (sealed = Buffer.concat(sender.sealParts(to, plain))));
    otherWork(i + 1);
    const o = cpu(() => {
      if (!receiver.open(from, to, sealed!).ok) throw new Error('did not open');
    });
    return s + o;
  };
  const codec = (i: number): number => {
    otherWork(i);
    const e = cpu(() => void encode(bigMsg.msg));
    otherWork(i + 1);
    return e + cpu(() => void decode(big, 65_000, 65_000));
  };
  const runs: Record<string, (i: number) => number> = { 'seal + open, 60 KB': sealOpen(big), 'seal + open, 30 B': sealOpen(ack), 'plain codec, 60 KB': codec };
  const xs: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < COLD_ROUNDS; i++) for (const [name, run] of Object.entries(runs)) xs[name]!.push(run(i));
  if (sink < 0) console.log(sink);
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return Object.fromEntries(Object.entries(xs).map(([k, v]) => [k, median(v)]));
}

main();
