// dht-manager's one-file build (esbuild, `npm run build`: dist/src/bin/dht-manager.cjs) as a person
// meets it: it is the installed command and behaves as the separate modules do. Runs the built
// programs (npm test builds first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN = join(process.cwd(), 'dist/src/bin');
const run = (file: string, ...args: string[]) => spawnSync(process.execPath, [file, ...args], { encoding: 'utf8' });

describe('dht-manager.cjs, the one-file build', () => {
  it('is the installed command', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['dht-manager']).toBe('dist/src/bin/dht-manager.cjs');
  });

  it('prints what the separate modules print, with the same exit codes', () => {
    for (const args of [['--help'], [], ['5000', '--frobnicate'], ['99999']]) {
      const one = run(join(BIN, 'dht-manager.cjs'), ...args);
      const mods = run(join(BIN, 'dht-manager.js'), ...args);
      expect({ status: one.status, stdout: one.stdout, stderr: one.stderr }).toEqual({ status: mods.status, stdout: mods.stdout, stderr: mods.stderr });
    }
  });

  it('is ASCII (V8 keeps a script with one other character at two bytes a character)', () => {
    expect(/[^\x00-\x7f]/.test(readFileSync(join(BIN, 'dht-manager.cjs'), 'latin1'))).toBe(false);
  });
});
