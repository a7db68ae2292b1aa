// The keyring of keyed mode (PROTOCOL §2.5): one or more 32-byte keys read from a key file, one
// base64 key a line. The first key seals; every key opens, so a key is rotated without downtime
// (install the new key second everywhere, then move it first everywhere, then remove the old one).
// Every problem is a KeyFileError whose message is one line for a person.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export const KEY_BYTES = 32;
/** Bytes of the key id carried in every sealed datagram's header. */
export const KEY_ID_BYTES = 4;
/** A key file is a few lines; anything much bigger is a wrong path, not a keyring. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** More keys than this is a mistake: rotation needs two at a time. */
export const MAX_KEYS = 16;

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

export interface Key {
  /** First KEY_ID_BYTES of a hash of the key: tells a receiver which key to try, reveals nothing usable. */
  id: Buffer;
  /** The id as hex, for messages. */
  hex: string;
  secret: Buffer;
}

export interface Keyring {
  /** keys[0] seals; all of them open. Never empty. */
  keys: readonly Key[];
  source: string;
}

/** The key id: a domain-separated hash, so it says nothing about the key but "same key or not". */
export function keyId(secret: Buffer): Buffer {
  return createHash('sha256').update('ringdht key id\0').update(secret).digest().subarray(0, KEY_ID_BYTES);
}

export function makeKey(secret: Buffer): Key {
  if (secret.length !== KEY_BYTES) throw new KeyFileError(`a key must be ${KEY_BYTES} bytes, got ${secret.length}`);
  const id = keyId(secret);
  return { id, hex: id.toString('hex'), secret };
}

/** Canonical base64 only: Buffer.from(…, 'base64') silently skips junk, which would hide typos. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The keys in a key file's text; `source` names the file in messages. */
export function parseKeyring(text: string, source: string): Keyring {
  const keys: Key[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `key file ${source}, line ${n + 1}`;
    if (!BASE64.test(line)) throw new KeyFileError(`${where}: not a base64 key (make one with dht-keygen)`);
    const secret = Buffer.from(line, 'base64');
    if (secret.length !== KEY_BYTES) throw new KeyFileError(`${where}: a key must be ${KEY_BYTES} bytes, this one is ${secret.length}`);
    const key = makeKey(secret);
    const twin = keys.findIndex((k) => k.id.equals(key.id));
    if (twin >= 0) throw new KeyFileError(`${where}: the same key (id ${key.hex}) is listed twice`);
    if (keys.length >= MAX_KEYS) throw new KeyFileError(`${where}: more than ${MAX_KEYS} keys; remove retired ones`);
    keys.push(key);
  }
  if (keys.length === 0) throw new KeyFileError(`key file ${source} holds no key (one base64 key a line; make one with dht-keygen)`);
  return { keys, source };
}

function why(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

/** Read and parse a key file. `warning` is set when others than the owner may read it. */
export function readKeyring(file: string): { ring: Keyring; warning: string | null } {
  let mode: number;
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new KeyFileError(`key file ${file} is not a regular file`);
    if (st.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(`key file ${file} is ${st.size} bytes; a key file is a few lines`);
    mode = st.mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    throw new KeyFileError(`key file ${file} cannot be read (${why(err)})`);
  }
  const ring = parseKeyring(text, file);
  const warning = (mode & 0o077) !== 0
    ? `warning: key file ${file} can be read by others than its owner (mode ${(mode & 0o777).toString(8)}); chmod 600 it`
    : null;
  return { ring, warning };
}
