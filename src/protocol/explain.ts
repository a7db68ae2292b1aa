// Why a value failed its check: the first error TypeBox finds, as `<path> <message>`. Loaded only
// when a check fails (explain-lazy.ts), since it loads TypeBox and compiles the schema.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { SCHEMAS } from './messages.js';
import { ChangeSchema, SnapshotSchema } from '../manager/snapshot-schema.js';

const SCHEMA_OF: Record<string, TSchema> = { ...SCHEMAS, snapshot: SnapshotSchema, change: ChangeSchema };
const compiled = new Map<string, TypeCheck<TSchema>>();

/** The first error of `value` against the schema named `name` (a message type, 'snapshot' or 'change'), or null. */
export function explain(name: string, value: unknown): string | null {
  const schema = SCHEMA_OF[name];
  if (!schema) return null;
  let check = compiled.get(name);
  if (!check) compiled.set(name, (check = TypeCompiler.Compile(schema)));
  const err = check.Errors(value).First();
  return err ? `${err.path || '/'} ${err.message}` : null;
}
