// Key files: what a person writes (comments, blank lines, CRLF), and a one-line error naming the
// file and line for everything else. --key-file beats $DHT_KEY_FILE; neither is default mode.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeyFileError, keyId, parseKeyring, readKeyring } from '../../../src/crypto/keyring.js';
import { keyringFromOptions } from '../../../src/crypto/options.js';
import { UsageError } from '../../../src/net/usage.js';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const dir = mkdtempSync(join(tmpdir(), 'ringdht-keys-'));
function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}
function error(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyFileError);
    const text = (err as Error).message;
    expect(text).not.toContain('\n');
    return text;
  }
  throw new Error('no error');
}

describe('key files', () => {
  it('reads keys in order, skipping comments, blank lines, spaces and CRLF', () => {
    const text = `# cluster keys\r\n\r\n  ${K1.toString('base64')}  \r\n# the old one\n${K2.toString('base64')}\n`;
    const ring = parseKeyring(text, 'k');
    expect(ring.keys.map((k) => k.secret)).toEqual([K1, K2]);
    expect(ring.keys[0]!.id).toEqual(keyId(K1));
    expect(ring.keys[0]!.hex).toMatch(/^[0-9a-f]{8}$/);
  });

  it('names the line of a bad key', () => {
    expect(error(() => parseKeyring(`# c\n${K1.toString('base64')}\nnot base64!\n`, 'k'))).toBe('key file k, line 3: not a base64 key (make one with dht-keygen)');
    expect(error(() => parseKeyring(`${K1.toString('base64')} # mine\n`, 'k'))).toMatch(/^key file k, line 1: not a base64 key/);
    expect(error(() => parseKeyring(`${K1.toString('base64').slice(0, -1)}\n`, 'k'))).toMatch(/line 1: not a base64 key/);
  });

  it('refuses a key of the wrong length, saying how long it is', () => {
    expect(error(() => parseKeyring(`${randomBytes(16).toString('base64')}\n`, 'k'))).toBe('key file k, line 1: a key must be 32 bytes, this one is 16');
    expect(error(() => parseKeyring(`${randomBytes(33).toString('base64')}\n`, 'k'))).toMatch(/this one is 33$/);
  });

  it('refuses an empty file, a file of comments only, and a key listed twice', () => {
    expect(error(() => parseKeyring('', 'k'))).toMatch(/^key file k holds no key/);
    expect(error(() => parseKeyring('# nothing yet\n\n', 'k'))).toMatch(/^key file k holds no key/);
    expect(error(() => parseKeyring(`${K1.toString('base64')}\n${K1.toString('base64')}\n`, 'k'))).toMatch(/line 2: the same key .* is listed twice/);
  });

  it('a missing file, a directory and a huge file each give one line', () => {
    expect(error(() => readKeyring(join(dir, 'absent')))).toBe(`key file ${join(dir, 'absent')} cannot be read (ENOENT)`);
    expect(error(() => readKeyring(dir))).toBe(`key file ${dir} is not a regular file`);
    expect(error(() => readKeyring(file('huge', 'x'.repeat(100_000))))).toMatch(/is 100000 bytes; a key file is a few lines$/);
  });

  it('warns when others may read the key file', () => {
    expect(readKeyring(file('private', `${K1.toString('base64')}\n`, 0o600)).warning).toBeNull();
    expect(readKeyring(file('shared', `${K1.toString('base64')}\n`, 0o644)).warning).toMatch(/can be read by others .*mode 644.*chmod 600/);
  });
});

describe('keyringFromOptions', () => {
  const one = file('one', `${K1.toString('base64')}\n`);
  const two = file('two', `${K2.toString('base64')}\n`);

  it('--key-file beats $DHT_KEY_FILE; an empty variable or neither is default mode', () => {
    expect(keyringFromOptions({ 'key-file': one }, { DHT_KEY_FILE: two })!.ring.keys[0]!.secret).toEqual(K1);
    expect(keyringFromOptions({}, { DHT_KEY_FILE: two })!.ring.keys[0]!.secret).toEqual(K2);
    expect(keyringFromOptions({}, { DHT_KEY_FILE: '' })).toBeNull();
    expect(keyringFromOptions({}, {})).toBeNull();
  });

  it('an empty --key-file is a usage error; a bad file a KeyFileError', () => {
    expect(() => keyringFromOptions({ 'key-file': '' }, {})).toThrow(UsageError);
    expect(() => keyringFromOptions({}, { DHT_KEY_FILE: join(dir, 'absent') })).toThrow(KeyFileError);
  });
});
