// The checks the programs run are compiled ahead of time (src/protocol/gen-checks.ts): this fails
// while src/protocol/checks.ts is not what the generator writes from today's schemas, and checks
// that each generated check agrees with TypeBox's own compiled one on arbitrary values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { checksSource } from '../../src/protocol/gen-checks.js';
import { CHECKS, CHANGE_CHECK, SNAPSHOT_CHECK } from '../../src/protocol/checks.js';
import { SCHEMAS, type MessageType } from '../../src/protocol/messages.js';
import { ChangeSchema, SnapshotSchema } from '../../src/manager/snapshot-schema.js';

describe('ahead-of-time schema checks', () => {
  it('src/protocol/checks.ts is what gen-checks writes now (else: npm run gen:checks)', () => {
    expect(readFileSync(path.join(__dirname, '../../src/protocol/checks.ts'), 'utf8')).toBe(checksSource());
  });

  const all: [string, TSchema, (v: unknown) => boolean][] = [
    ...Object.entries(SCHEMAS).map(([t, s]) => [t, s as TSchema, CHECKS[t as MessageType]] as [string, TSchema, (v: unknown) => boolean]),
    ['snapshot', SnapshotSchema, SNAPSHOT_CHECK],
    ['change', ChangeSchema, CHANGE_CHECK],
  ];
  for (const [name, schema, check] of all) {
    it(`${name}: agrees with TypeBox's compiled check`, () => {
      const reference = TypeCompiler.Compile(schema);
      // Valid messages of every type are checked by the codec's tests and the whole simulation.
      fc.assert(fc.property(fc.anything(), (v) => check(v) === reference.Check(v)), { numRuns: 300 });
      fc.assert(fc.property(fc.dictionary(fc.constantFrom('t', 'rid', 'v', 'peers', 'dht', 'sec', 'name', 'x'), fc.anything()), (v) => check(v) === reference.Check(v)), { numRuns: 300 });
    });
  }
});
