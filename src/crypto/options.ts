// --key-file FILE / $DHT_KEY_FILE, shared by dht-manager and dht-peer: with neither the program
// runs in default mode; with either every datagram it sends is sealed and every one it receives
// must open (PROTOCOL §2.5).
import { UsageError } from '../net/usage.js';
import { readKeyring, type Keyring } from './keyring.js';

/** Spread into a program's parseArgs options. */
export const KEY_FILE_OPTIONS = { 'key-file': { type: 'string' } } as const;

/** The usage lines, in the column layout of both programs' usage texts. */
export const KEY_FILE_USAGE =
  `  --key-file FILE         keyed mode: seal and open every datagram with the keys in FILE, one base64
                          key a line, the first seals (default: $DHT_KEY_FILE, else no key; make one
                          with dht-keygen)`;

export interface KeyChoice {
  ring: Keyring;
  /** A line for stderr (a key file others may read), or null. */
  warning: string | null;
}

/**
 * The keyring named by --key-file, else by $DHT_KEY_FILE (empty means unset), else null (default
 * mode). Throws UsageError for an empty --key-file, KeyFileError (one line) for a bad file.
 */
export function keyringFromOptions(values: { 'key-file'?: string | undefined }, env: NodeJS.ProcessEnv): KeyChoice | null {
  const given = values['key-file'];
  if (given !== undefined && given.trim() === '') throw new UsageError('--key-file needs a file name');
  const file = given ?? (env['DHT_KEY_FILE']?.trim() ? env['DHT_KEY_FILE'] : undefined);
  if (file === undefined) return null;
  return readKeyring(file);
}
