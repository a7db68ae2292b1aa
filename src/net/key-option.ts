// Keyed mode for both programs: --key-file FILE (or $DHT_KEY_FILE) gives the keyring; SIGHUP
// reads the file again and takes its keys without a restart (the rotation steps of PROTOCOL §2.5).
import { keyringFromOptions } from '../crypto/options.js';
import { readKeyring } from '../crypto/keyring.js';
import { Keyed } from '../crypto/seal.js';

/** The sealer the options ask for (null: default mode), with SIGHUP wired to re-read the key file. */
export function keyedFromOptions(values: { 'key-file'?: string | undefined }, say: (line: string) => void): Keyed | null {
  const choice = keyringFromOptions(values, process.env);
  if (choice === null) return null;
  if (choice.warning) process.stderr.write(choice.warning + '\n');
  const keyed = new Keyed(choice.ring);
  process.on('SIGHUP', () => {
    try {
      const again = readKeyring(choice.ring.source);
      keyed.rekey(again.ring);
      say(`keys: re-read ${choice.ring.source}; ${keyed.describe()}`);
    } catch (err) {
      say(`keys: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; the old keys stay in use`);
    }
  });
  return keyed;
}
