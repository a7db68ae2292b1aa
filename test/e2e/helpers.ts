// Shared by the end-to-end tests: where the course data is, and how to start the built programs.
import { join } from 'node:path';
import { repoRoot, binPath } from '../../src/scenario/system.js';
import { startProcess, type DrivenProcess } from '../../src/scenario/driver.js';

/** The real course files: $DHT_TEST_DATA_DIR, else ../shared/data beside the checkout. */
export const DATA_DIR = process.env['DHT_TEST_DATA_DIR'] ?? join(repoRoot(), '..', 'shared', 'data');

export function run(program: 'dht-manager' | 'dht-peer', args: string[], name: string = program): DrivenProcess {
  return startProcess(name, process.execPath, [binPath(program), ...args]);
}
