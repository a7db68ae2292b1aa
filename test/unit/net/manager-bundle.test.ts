// dht-manager's one-file build (bin/bundle-manager.ts) as a person meets it: the installed
// command behaves as the separate modules do, and never runs code older than dist/ holds.
// Runs the built programs (npm test builds first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('runs itself while dist/ holds what it was made of, the modules themselves once one was compiled again', () => {
    const copy = mkdtempSync(join(tmpdir(), 'ringdht-bundle-'));
    cpSync(join(process.cwd(), 'dist', 'src'), join(copy, 'src'), { recursive: true, preserveTimestamps: true });
    const main = join(copy, 'src', 'bin', 'manager-main.js');
    // The module changed in place, with its size and modification time kept: the one-file
    // build cannot tell, so it runs its own copy (no mark); any rewrite (tsc's) changes the time.
    const text = readFileSync(main, 'latin1');
    const firstLine = text.slice(0, text.indexOf('\n'));
    const mark = 'process.stdout.write("the modules ran\\n");//';
    expect(firstLine.length).toBeGreaterThan(mark.length);
    const { mtime } = statSync(main);
    writeFileSync(main, mark.padEnd(firstLine.length, '-') + text.slice(firstLine.length), 'latin1');
    utimesSync(main, mtime, mtime);
    const bundled = run(join(copy, 'src', 'bin', 'dht-manager.cjs'), '--help');
    expect(bundled.stdout).toContain('usage: dht-manager <port>');
    expect(bundled.stdout).not.toContain('the modules ran');
    utimesSync(main, new Date(), new Date());
    const modules = run(join(copy, 'src', 'bin', 'dht-manager.cjs'), '--help');
    expect(modules.status).toBe(0);
    expect(modules.stdout).toContain('the modules ran');
    expect(modules.stdout).toContain('usage: dht-manager <port>');
  });
});
