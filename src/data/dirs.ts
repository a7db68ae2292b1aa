// Where a program looks for details-YYYY.csv. One rule for dht-peer, `npm start` and the
// benchmark, so that a directory that works for one works for all of them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rule in words, for --help texts, the README and warnings. */
export const DATA_DIR_RULE =
  '--data-dir DIR, else $DHT_DATA_DIR, else ./data if it exists, else ../shared/data beside the checkout if it exists ' +
  '(the course layout), else ./data';

export interface DataDirChoice {
  /** Absolute path. */
  dir: string;
  /** Which part of the rule chose it, for messages. */
  from: '--data-dir' | '$DHT_DATA_DIR' | './data' | '../shared/data' | 'default ./data';
}

/** The checkout (or installed package) this module belongs to; works from src/ under vitest and from dist/src/. */
export function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ringdht') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the ringdht checkout above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The data directory by DATA_DIR_RULE; an empty value counts as not given. The course layout
 * (the data beside the checkout) is a fallback only, so a clone elsewhere is not surprised by it.
 */
export function resolveDataDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): DataDirChoice {
  if (option !== undefined && option !== '') return { dir: resolve(option), from: '--data-dir' };
  const fromEnv = env['DHT_DATA_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: resolve(fromEnv), from: '$DHT_DATA_DIR' };
  const local = resolve('data');
  if (isDirectory(local)) return { dir: local, from: './data' };
  const course = join(checkoutRoot(), '..', 'shared', 'data');
  if (isDirectory(course)) return { dir: course, from: '../shared/data' };
  return { dir: local, from: 'default ./data' };
}

/** null if the chosen directory exists, else one line saying so and how to choose another. */
export function missingDataDirWarning(choice: DataDirChoice): string | null {
  if (isDirectory(choice.dir)) return null;
  const why = choice.from === 'default ./data' ? 'the default' : `from ${choice.from}`;
  return `warning: data directory ${choice.dir} (${why}) does not exist; setup-dht, and a leave or join this peer ` +
    `leads, will fail until it holds details-YYYY.csv (rule: ${DATA_DIR_RULE})`;
}
