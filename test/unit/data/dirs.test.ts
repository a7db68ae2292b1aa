// The one data-directory rule of dht-peer, npm start and the benchmark (src/data/dirs.ts).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_DIR_RULE, checkoutRoot, missingDataDirWarning, resolveDataDir } from '../../../src/data/dirs.js';

const cwd = process.cwd();
afterEach(() => process.chdir(cwd));

describe('resolveDataDir', () => {
  it('takes --data-dir first, then $DHT_DATA_DIR, as absolute paths; empty values count as not given', () => {
    expect(resolveDataDir('some/dir', { DHT_DATA_DIR: '/env' })).toEqual({ dir: resolve('some/dir'), from: '--data-dir' });
    expect(resolveDataDir(undefined, { DHT_DATA_DIR: 'env/dir' })).toEqual({ dir: resolve('env/dir'), from: '$DHT_DATA_DIR' });
    expect(resolveDataDir('', { DHT_DATA_DIR: '/env' })).toEqual({ dir: '/env', from: '$DHT_DATA_DIR' });
  });

  it('else ./data if it exists, whatever lies beside the checkout', () => {
    const here = mkdtempSync(join(tmpdir(), 'ringdht-dirs-'));
    mkdirSync(join(here, 'data'));
    process.chdir(here);
    expect(resolveDataDir(undefined, {})).toEqual({ dir: join(process.cwd(), 'data'), from: './data' });
  });

  it('else ../shared/data beside the checkout if it exists, else ./data (which does not exist)', () => {
    process.chdir(mkdtempSync(join(tmpdir(), 'ringdht-dirs-')));
    const choice = resolveDataDir(undefined, {});
    const course = join(checkoutRoot(), '..', 'shared', 'data');
    expect([{ dir: course, from: '../shared/data' }, { dir: join(process.cwd(), 'data'), from: 'default ./data' }]).toContainEqual(choice);
  });
});

describe('missingDataDirWarning', () => {
  it('says nothing for a directory that exists', () => {
    expect(missingDataDirWarning({ dir: tmpdir(), from: '--data-dir' })).toBeNull();
  });

  it('names the directory, where it came from and the rule, in one line', () => {
    const line = missingDataDirWarning({ dir: '/no/such/dir', from: '$DHT_DATA_DIR' })!;
    expect(line).toMatch(/^warning: data directory \/no\/such\/dir \(from \$DHT_DATA_DIR\) does not exist; /);
    expect(line).toContain(DATA_DIR_RULE);
    expect(line).not.toContain('\n');
    expect(missingDataDirWarning({ dir: '/no/such/dir', from: 'default ./data' })).toMatch(/\(the default\)/);
  });
});
