// The one error type of the data layer, apart so that readers (read.ts) and parsers (csv.ts)
// can both throw it without importing each other.

/** A data problem a person can fix (missing file, bad column, bad row); message is one line. */
export class DataError extends Error {
  override name = 'DataError';
}

/** The error code (ENOENT, …) or first line of a message: short enough for a one-line DataError. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}
