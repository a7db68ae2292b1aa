// Invariants asserted in the cores (TigerBeetle habit). A broken invariant is a bug, never bad
// input: bad input is refused with a reason before any assertion can see it. In the simulation a
// failed assertion fails the seed; in the programs the shell's guard reports it in one line and
// drops the event.

export class InvariantError extends Error {
  constructor(what: string) {
    super(`invariant broken: ${what}`);
    this.name = 'InvariantError';
  }
}

export function assert(condition: unknown, what: string): asserts condition {
  if (!condition) throw new InvariantError(what);
}
