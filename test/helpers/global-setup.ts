// Vitest global setup: choose the test data once for the whole run, say which in one line, and
// hand it to every test file (inject('testData'), see test/helpers/data.ts).
import type { TestProject } from 'vitest/node';
import { prepareTestData, type TestDataInfo } from './test-data.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testData: TestDataInfo;
  }
}

export default function setup(project: TestProject): () => void {
  const { info, cleanup } = prepareTestData();
  process.stdout.write(`\n${info.summary}\n\n`);
  project.provide('testData', info);
  return cleanup;
}
