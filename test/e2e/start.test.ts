// `npm start`'s logging options (the scenarios themselves are run by milestone/full/netns tests).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const main = join(process.cwd(), 'dist', 'src', 'scenario', 'main.js');

describe.skipIf(!existsSync(main))('npm start options', () => {
  it('documents --log-dir and --no-log', () => {
    const r = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--log-dir DIR');
    expect(r.stdout).toContain('--no-log');
  });

  it('refuses --no-log with --log-dir, in one line and the usage', () => {
    const r = spawnSync(process.execPath, [main, '--no-log', '--log-dir', 'x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--no-log and --log-dir exclude each other');
  });
});
