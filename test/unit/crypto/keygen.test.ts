// dht-keygen as a person meets it: a key on stdout, or in a new 0600 file; never an overwrite;
// exit 0 / 1 / 2. Runs the built program (npm test builds first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyring } from '../../../src/crypto/keyring.js';

const BIN = join(process.cwd(), 'dist/src/bin/dht-keygen.js');
const keygen = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'ringdht-keygen-'));

describe('dht-keygen', () => {
  it('prints one base64 key line that a key file accepts, a new one each time', () => {
    const a = keygen();
    const b = keygen();
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(parseKeyring(a.stdout, 'stdout').keys).toHaveLength(1);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('--out writes a 0600 file, and refuses to overwrite one (exit 1, one line)', () => {
    const out = join(dir, 'cluster.key');
    const first = keygen('--out', out);
    expect(first.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const key = readFileSync(out, 'utf8');
    expect(parseKeyring(key, out).keys).toHaveLength(1);
    const again = keygen('--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`dht-keygen: cannot write ${out} (EEXIST)\n`);
    expect(readFileSync(out, 'utf8')).toBe(key);
    expect(keygen('--out', join(dir, 'no-such-dir', 'k')).status).toBe(1);
  });

  it('--help exits 0; a wrong option or an argument exits 2 with the usage', () => {
    const help = keygen('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: dht-keygen/);
    for (const args of [['--bogus'], ['extra'], ['--out', '']]) {
      const r = keygen(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^dht-keygen: .*\nusage: dht-keygen/);
      expect(r.stdout).toBe('');
    }
  });
});
