#!/usr/bin/env node
// dht-keygen: make a key for keyed mode (PROTOCOL §2.5): 32 random bytes as one base64 line.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { UsageError, runProgram, usageErrors } from '../net/usage.js';
import { KEY_BYTES } from '../crypto/keyring.js';

const USAGE = `usage: dht-keygen [--out FILE]
  Prints a new key for --key-file: ${KEY_BYTES} random bytes as one base64 line.
  --out FILE    write it to FILE (created with mode 0600; an existing file is never overwritten)
  --help        show this text
Rotation (PROTOCOL §2.5), each step on every process before the next: add the new line second
in every key file (all keys open); move it first (the first key seals); remove the old line.
Exit status: 0 done, 1 the file could not be written, 2 wrong usage.`;

const OPTIONS = {
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function why(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

function main(): void {
  const { values, positionals } = usageErrors(() =>
    parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true }));
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positionals.length > 0) throw new UsageError(`takes no arguments, got '${positionals[0]!.slice(0, 30)}'`);
  const line = randomBytes(KEY_BYTES).toString('base64') + '\n';
  if (values.out === undefined) {
    process.stdout.write(line);
    return;
  }
  if (values.out.trim() === '') throw new UsageError('--out needs a file name');
  try {
    // 'wx': never overwrite (a lost key locks its holders out); mode 0600: the key is a secret.
    writeFileSync(values.out, line, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    throw new Error(`cannot write ${values.out} (${why(err)})`);
  }
  process.stderr.write(`dht-keygen: wrote a new key to ${values.out}\n`);
}

runProgram('dht-keygen', USAGE, main);
