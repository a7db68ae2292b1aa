// `npm run bench:crypto`: what keyed mode costs per datagram. A 1,400-byte store datagram of
// synthetic 1996 records: its plain encode + decode (the codec, as every datagram pays today)
// against seal + open (src/crypto/seal.ts), and the two AEADs node:crypto offers, each alone;
// then AES-256-GCM on a 100-byte datagram and the cipher objects' creation alone, which show
// that the cost is per call into node:crypto, hardly per byte.
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
/** Datagrams of a 1996 n = 5 setup (docs/BENCHMARKS.md: 5,388; ~6,000 with retransmissions and acks). */
const SETUP_DATAGRAMS = 6000;
/** That setup's wall time and CPU time over all processes, on an idle machine (docs/BENCHMARKS.md). */
const SETUP_MS = 274;
const SETUP_CPU_MS = 530;

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
  const loaded = os.loadavg()[0]! > os.cpus().length;
  // Others' load slows every candidate alike (rounds alternate), so the ratios hold; the µs do not.
  if (loaded) console.log('  WARNING: the machine is loaded: compare the ratios, not the µs, with other runs');
  const out = path.join(repoRoot(), 'bench', 'out');
  mkdirSync(out, { recursive: true });
  const result = { loaded, datagramBytes: bytes.length, sealOverhead: SEAL_OVERHEAD, cpuMicrosecondsPerDatagram: us, keyedOverPlain: keyed / plain, setupDatagrams: SETUP_DATAGRAMS, setupExtraCpuMs: setupCpuMs, node: process.version, cpu: os.cpus()[0]?.model, load1: os.loadavg()[0] };
  writeFileSync(path.join(out, 'crypto.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${path.join('bench', 'out', 'crypto.json')}`);
}

main();
