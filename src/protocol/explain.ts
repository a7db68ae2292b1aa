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
  const union = SCHEMA_OF[name];
  if (!union) return null;
  // A union (a store frame, compressed or not): explain against the form the value claims to be,
  // the first whose required fields it all has, so the reason names the field at fault.
  const forms = (union as { anyOf?: TSchema[] }).anyOf ?? [union];
  const has = (f: TSchema): boolean => typeof value === 'object' && value !== null && ((f as { required?: string[] }).required ?? []).every((k) => Object.hasOwn(value, k));
  let at = 0;
  forms.forEach((f, i) => { if (has(f)) at = i; }); // the last that fits: the forms go from plain to compressed
  const key = `${name}#${at}`;
  let check = compiled.get(key);
  if (!check) compiled.set(key, (check = TypeCompiler.Compile(forms[at]!)));
  const err = check.Errors(value).First();
  return err ? `${err.path || '/'} ${err.message}` : null;
}
