// Keyed mode (PROTOCOL §2.5): every datagram sealed with an AEAD below the wire layer and above
// the socket. Layout of a sealed datagram (27-byte header, all of it authenticated):
//
//   0      magic/version 0xD1 (a plain datagram starts with '{' = 0x7B)
//   1–4    key id (keyring.ts): the receiver tries that key only
//   5–12   sender id: 64 random bits per process start  ┐ together the 96-bit nonce:
//   13–16  counter, u32 BE, +1 per datagram             ┘ unique per (key, datagram)
//   17–20  sender's clock, u32 BE seconds since 1970 (freshness after a receiver restart)
//   21–24  destination IPv4 as the sender addressed it  ┐ a datagram replayed to another
//   25–26  destination port, u16 BE                     ┘ member is refused
//   27…    ciphertext, then the 16-byte tag
//
// The additional data is the header followed by the cluster label, so a datagram from another
// cluster sharing a key by mistake but not its label fails too. AES-256-GCM: on this machine
// (AES-NI) it costs the same as ChaCha20-Poly1305, in a tight loop and cold as a peer calls it
// (bench/crypto.ts; docs/BENCHMARKS.md, "Keyed mode"). What a seal or an open costs in a peer is
// mostly per call into node:crypto, not per byte: hence no extra copies here.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Addr } from '../reliable/outbox.js';
import { LOCAL_MAX_PAYLOAD } from '../protocol/codec.js';
import type { Keyring } from './keyring.js';
import { SenderWindows, type ReplayWindow } from './replay.js';

export const MAGIC = 0xd1;
export const HEADER_BYTES = 27;
export const TAG_BYTES = 16;
/** What sealing adds to a datagram: 1,400 bytes of payload become 1,443 (a 1,500-byte MTU holds 1,472). */
export const SEAL_OVERHEAD = HEADER_BYTES + TAG_BYTES;
/** A datagram whose sender's clock is further than this from ours is refused (loose clocks assumed closer). */
export const FRESHNESS_S = 120;
/** Senders whose replay windows are kept (~400 bytes each with their map entry): a 4,096-peer registry fits. */
export const MAX_SENDERS = 4096;
export const DEFAULT_LABEL = 'ringdht';
export const CIPHER = 'aes-256-gcm';
const MAX_COUNTER = 0xffff_ffff;

/** Why a datagram was refused: a short word for rate-limiting the lines, and a sentence. */
export type Refusal = 'plain' | 'short' | 'oversized' | 'not-sealed' | 'unknown-key' | 'replayed' | 'too-old' | 'forged' | 'misaddressed' | 'stale';
export type Opened = { ok: true; plain: Buffer } | { ok: false; kind: Refusal; reason: string };

export interface KeyedOptions {
  /** Cluster label, authenticated with every datagram (default 'ringdht'). */
  label?: string;
  /** Milliseconds since 1970 (default Date.now); tests move it. */
  now?: () => number;
  /** Random bytes (default crypto.randomBytes); tests fix them. */
  random?: (n: number) => Buffer;
  /** First counter of the first sender id (default 0); tests start near the end. */
  counter?: number;
  maxSenders?: number;
}

interface OpenKey { id: Buffer; hex: string; key: KeyObject; /** The id as a u32, compared with the header's without a call. */ id32: number }

/** One options object for every cipher: an object literal per call is garbage per datagram. */
const GCM = { authTagLength: TAG_BYTES } as const;

/** The replay window of the sender heard from last, found again without building its hex id. */
interface LastSender { hi: number; lo: number; hex: string; window: ReplayWindow }

export class Keyed {
  private keys: OpenKey[];
  /**
   * The header of the next datagram sealed, followed by the label: the additional data of every
   * seal. Magic, key id and sender id stay put; counter, clock and destination are rewritten per
   * datagram, and the nonce is a fixed view of bytes 5–16 (createCipheriv copies it).
   */
  private readonly sealAad: Buffer;
  private readonly sealNonce: Buffer;
  /** Bytes 0–26 of sealAad: the header alone. */
  private readonly sealHeader: Buffer;
  /** The same for opening: a received header is copied in front of the label. */
  private readonly openAad: Buffer;
  /** The last destination's IPv4 bytes: most datagrams go to a handful of addresses. */
  private lastIp: { text: string; bytes: Buffer } = { text: '', bytes: Buffer.alloc(4) };
  /** The last receiving socket's address as bytes, for the address check ('any': 0.0.0.0). */
  private lastAt: { text: string; bytes: Buffer | 'any' | null } = { text: '0.0.0.0', bytes: 'any' };
  private readonly now: () => number;
  private readonly random: (n: number) => Buffer;
  private readonly windows: SenderWindows;
  private last: LastSender | null = null;
  /** The sender heard from before `last`, kept only while its window is (windows are forgotten only in record(), which updates both). */
  private prev: LastSender | null = null;
  private senderId: Buffer;
  private counter: number;

  constructor(private ring: Keyring, options: KeyedOptions = {}) {
    this.keys = openKeys(ring);
    const label = Buffer.from(options.label ?? DEFAULT_LABEL, 'utf8');
    this.sealAad = Buffer.concat([Buffer.alloc(HEADER_BYTES), label]);
    this.sealNonce = this.sealAad.subarray(5, 17);
    this.sealHeader = this.sealAad.subarray(0, HEADER_BYTES);
    this.openAad = Buffer.concat([Buffer.alloc(HEADER_BYTES), label]);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
    this.windows = new SenderWindows(options.maxSenders ?? MAX_SENDERS);
    this.senderId = this.random(8);
    this.counter = options.counter ?? 0;
    this.writeFixed();
  }

  /**
   * Take a new keyring (a rotation step, PROTOCOL §2.5) in a running process: sender id, counter
   * and replay windows are kept, so nothing sent or received before can be replayed after.
   */
  rekey(ring: Keyring): void {
    this.keys = openKeys(ring);
    this.ring = ring;
    this.writeFixed();
  }

  /** One line for the start-up banner. */
  describe(): string {
    const n = this.keys.length;
    return `keyed mode: ${n} key${n === 1 ? '' : 's'} from ${this.ring.source}, sealing with key ${this.keys[0]!.hex} (${CIPHER})`;
  }

  /** The sealed form of one datagram to `to`. */
  seal(to: Addr, plain: Buffer): Buffer {
    return Buffer.concat(this.sealParts(to, plain));
  }

  /**
   * The sealed datagram to `to` as its three parts (header, ciphertext, tag), for a socket that
   * sends a list as one datagram: joining them would allocate and copy every datagram once more
   * (60 KB for a local store batch), which measured ~10 ms of a 1996 setup's crypto (BENCHMARKS).
   */
  sealParts(to: Addr, plain: Buffer): [Buffer, Buffer, Buffer] {
    if (this.counter > MAX_COUNTER) {
      // A counter is never reused: past 2^32 − 1 this process takes a new sender id, as if restarted.
      this.senderId = this.random(8);
      this.counter = 0;
      this.writeFixed();
    }
    const head = this.sealAad;
    putU32(head, 13, this.counter++);
    putU32(head, 17, Math.floor(this.now() / 1000) >>> 0);
    this.writeAddr(head, to);
    const cipher = createCipheriv(CIPHER, this.keys[0]!.key, this.sealNonce, GCM);
    cipher.setAAD(head);
    const body = cipher.update(plain);
    cipher.final();
    // The header is rewritten by the next seal, while this datagram may still wait to be sent: a copy.
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.set(this.sealHeader);
    return [header, body, cipher.getAuthTag()];
  }

  /**
   * The plain datagram inside `sealed`, received from `from` on a socket bound to `at` (ip
   * 0.0.0.0: any local address, so only the port is checked); or why it is refused.
   */
  open(from: Addr, at: Addr, sealed: Buffer): Opened {
    if (sealed.length > 0 && sealed[0] === 0x7b) return refuse('plain', from, `plain datagram from {from}: it has no key (keyed mode)`);
    if (sealed.length < SEAL_OVERHEAD) return refuse('short', from, `datagram from {from} too short to be sealed (${sealed.length} bytes)`);
    // Nothing larger is ever sealed (a store batch between processes of one machine, wire.ts, is
    // the largest; the wire refuses one that large from any other address once it is opened):
    // refuse it before spending a decryption on it.
    if (sealed.length > LOCAL_MAX_PAYLOAD + SEAL_OVERHEAD) return refuse('oversized', from, `datagram from {from} too large to be sealed (${sealed.length} bytes)`);
    if (sealed[0] !== MAGIC) return refuse('not-sealed', from, `datagram from {from} is not sealed (first byte 0x${sealed[0]!.toString(16)})`);
    const key = this.keyFor(sealed);
    if (!key) return refuse('unknown-key', from, `datagram from {from} sealed with unknown key ${sealed.toString('hex', 1, 5)} (another cluster's, or a removed one)`);
    const counter = u32(sealed, 13);
    // Cheap refusal first; the window is only updated once the datagram is authenticated.
    const known = this.senderWindow(sealed);
    const early = known.window?.check(counter);
    if (early === 'replayed') return refuse('replayed', from, `replayed datagram from {from} (sender ${known.hex}, counter ${counter} seen before)`);
    if (early === 'too-old') return refuse('too-old', from, `datagram from {from} too old for the replay window (sender ${known.hex}, counter ${counter})`);
    const plain = this.decrypt(key.key, sealed);
    if (!plain) return refuse('forged', from, `datagram from {from} failed authentication (forged, damaged, or another cluster's label)`);
    if (!this.addressedTo(sealed, at)) return refuse('misaddressed', from, `datagram from {from} was addressed to ${readAddr(sealed)}, not to this socket (replayed from elsewhere?)`);
    const skew = Math.floor(this.now() / 1000) - u32(sealed, 17);
    if (Math.abs(skew) > FRESHNESS_S) return refuse('stale', from, `stale datagram from {from}: sealed ${skew} s from our clock (freshness ±${FRESHNESS_S} s; replayed, or clocks apart?)`);
    this.record(known.hex, sealed, counter);
    return { ok: true, plain };
  }

  /** Magic, key id and sender id of the sealing header: set once, and again when one changes. */
  private writeFixed(): void {
    this.sealAad[0] = MAGIC;
    this.keys[0]!.id.copy(this.sealAad, 1);
    this.senderId.copy(this.sealAad, 5);
  }

  private keyFor(sealed: Buffer): OpenKey | undefined {
    const id = u32(sealed, 1);
    for (const k of this.keys) if (k.id32 === id) return k;
    return undefined;
  }

  /**
   * The sender's hex id and replay window (if it has one yet). Datagrams mostly come from the
   * same two senders (a ring member hears its left neighbour's batches and its right neighbour's
   * acks, alternately), so the last two are recognised from two integer reads each, without the
   * hex string and map look-up that a sender met for the first time (or again) costs.
   */
  private senderWindow(sealed: Buffer): { hex: string; window: ReplayWindow | undefined } {
    const hi = u32(sealed, 5);
    const lo = u32(sealed, 9);
    const last = this.last;
    if (last && lo === last.lo && hi === last.hi) return last;
    const prev = this.prev;
    if (prev && lo === prev.lo && hi === prev.hi) return prev;
    const hex = sealed.toString('hex', 5, 13);
    return { hex, window: this.windows.get(hex) };
  }

  /** Record an authenticated counter; the sender becomes the most recently heard (last to be forgotten). */
  private record(hex: string, sealed: Buffer, counter: number): void {
    const last = this.last;
    if (last && last.hex === hex && this.windows.isNewest(hex)) {
      last.window.record(counter);
      return;
    }
    const window = this.windows.touch(hex);
    window.record(counter);
    const prev = this.prev;
    // The other of the two recent senders comes back: swap them, nothing allocated.
    if (prev && prev.hex === hex && prev.window === window) {
      this.prev = last;
      this.last = prev;
      return;
    }
    this.prev = last && last.window === this.windows.get(last.hex) ? last : null;
    this.last = { hi: u32(sealed, 5), lo: u32(sealed, 9), hex, window };
  }

  private decrypt(key: KeyObject, sealed: Buffer): Buffer | null {
    const end = sealed.length - TAG_BYTES;
    try {
      // Plain Uint8Array views: Buffer's own subarray and copy are JavaScript wrappers, slow while cold.
      const at = sealed.byteOffset;
      const decipher = createDecipheriv(CIPHER, key, new Uint8Array(sealed.buffer, at + 5, 12), GCM);
      this.openAad.set(new Uint8Array(sealed.buffer, at, HEADER_BYTES));
      decipher.setAAD(this.openAad);
      decipher.setAuthTag(new Uint8Array(sealed.buffer, at + end, TAG_BYTES));
      const body = decipher.update(new Uint8Array(sealed.buffer, at + HEADER_BYTES, end - HEADER_BYTES));
      decipher.final(); // throws if the tag does not match
      return body;
    } catch {
      return null;
    }
  }

  /** Dotted IPv4 into 4 bytes at 21 and the port at 25; anything else (never on udp4) as 0.0.0.0. */
  private writeAddr(out: Buffer, to: Addr): void {
    if (to.ip !== this.lastIp.text) this.lastIp = { text: to.ip, bytes: ipv4Bytes(to.ip) ?? NO_IP };
    out.set(this.lastIp.bytes, 21);
    out[25] = (to.port >>> 8) & 0xff;
    out[26] = to.port & 0xff;
  }

  /** The port must be ours; the address too unless we listen on every address (0.0.0.0). */
  private addressedTo(sealed: Buffer, at: Addr): boolean {
    if (((sealed[25]! << 8) | sealed[26]!) !== at.port) return false;
    if (at.ip !== this.lastAt.text) this.lastAt = { text: at.ip, bytes: at.ip === '0.0.0.0' ? 'any' : ipv4Bytes(at.ip) };
    const ip = this.lastAt.bytes;
    if (ip === 'any') return true;
    // Not a dotted IPv4 (never on udp4): only an exact match of the text would do, and none can.
    return ip !== null && u32(ip, 0) === u32(sealed, 21);
  }
}

/** The sentence is completed only here: a datagram that opens pays for no string. */
function refuse(kind: Refusal, from: Addr, reason: string): Opened {
  return { ok: false, kind, reason: reason.replace('{from}', `${from.ip}:${from.port}`) };
}

/** KeyObjects once: createCipheriv with a raw key buffer imports it again for every datagram. */
function openKeys(ring: Keyring): OpenKey[] {
  return ring.keys.map((k) => ({ id: k.id, hex: k.hex, key: createSecretKey(k.secret), id32: u32(k.id, 0) }));
}

/** The 4 bytes of a dotted IPv4 address; null for anything else. */
function ipv4Bytes(ip: string): Buffer | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return Buffer.from(parts.map(Number));
}

const NO_IP = Buffer.alloc(4);

/**
 * Big-endian u32 at `at`, read and written with indexing: Buffer's readUInt32BE/writeUInt32BE are
 * JavaScript functions that a process sealing a few hundred datagrams runs unoptimised.
 */
function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function readAddr(sealed: Buffer): string {
  return `${sealed[21]}.${sealed[22]}.${sealed[23]}.${sealed[24]}:${sealed.readUInt16BE(25)}`;
}
