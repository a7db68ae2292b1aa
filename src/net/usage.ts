// Command-line handling shared by both programs: a wrong argument is a one-line sentence plus
// the usage text on stderr and exit status 2, never a stack trace (SPEC §5).

/** A mistake in how the program was started; its message is one line for a person. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type TraceMode = 'summary' | 'full' | 'off';
export const TRACE_MODES: readonly TraceMode[] = ['summary', 'full', 'off'];

/** Run node:util parseArgs, turning its errors into one-line UsageErrors. */
export function usageErrors<R>(parse: () => R): R {
  try {
    return parse();
  } catch (err) {
    // parseArgs explains unknown options at length; the first sentence is the useful part.
    const text = err instanceof Error ? err.message : String(err);
    throw new UsageError(text.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '.'));
  }
}

/** A whole number option within [min, max]; undefined when absent. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${value.slice(0, 30)}'`);
  }
  return Number(value);
}

export function traceOption(value: string | undefined): TraceMode {
  if (value === undefined) return 'summary';
  if (!(TRACE_MODES as readonly string[]).includes(value)) {
    throw new UsageError(`--trace must be one of ${TRACE_MODES.join(', ')}, got '${value.slice(0, 30)}'`);
  }
  return value as TraceMode;
}

/**
 * Run a program's main: usage mistakes print `<prog>: <sentence>` and the usage to stderr and
 * exit 2; anything else unexpected is reported in one line and exits 1.
 */
export function runProgram(prog: string, usage: string, main: () => void | Promise<void>): void {
  const fail = (err: unknown): void => {
    if (err instanceof UsageError) {
      process.stderr.write(`${prog}: ${err.message}\n${usage}\n`);
      process.exitCode = 2;
    } else {
      const text = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${prog}: ${text.split('\n')[0]}\n`);
      process.exitCode = 1;
    }
  };
  try {
    const result = main();
    if (result instanceof Promise) result.catch(fail);
  } catch (err) {
    fail(err);
  }
}
