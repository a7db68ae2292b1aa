// Shared by the end-to-end tests: where the test data is, and how to start the built programs.
import { binPath } from '../../src/scenario/system.js';
import { startProcess, type DrivenProcess } from '../../src/scenario/driver.js';

/** The course files or synthetic data of the same shape: see test/helpers/test-data.ts. */
export { DATA_DIR } from '../helpers/data.js';

export function run(program: 'dht-manager' | 'dht-peer', args: string[], name: string = program): DrivenProcess {
  return startProcess(name, process.execPath, [binPath(program), ...args]);
}
