// The explanation of a failed check, loaded on the first failure: explain.ts needs TypeBox, which
// the programs otherwise never load. It is loaded synchronously (a refusal is explained in the
// line that reports it) by require() of an ES module, which Node ≥ 20.19 does; where that is not
// possible the reason is given without the detail. Under vitest the sources are not what require()
// sees: the test setup hands the explainer in (test/helpers/explain-setup.ts). The path goes up
// and back into protocol/ because in dht-manager's one-file build (dist/src/bin/dht-manager.cjs)
// import.meta.url is that file's URL, in bin/.
import { createRequire } from 'node:module';

type Explain = (name: string, value: unknown) => string | null;
let explainer: Explain | null | undefined;

/** Use `explain` from now on (tests; the programs load explain.js by themselves). */
export function setExplainer(explain: Explain): void {
  explainer = explain;
}

/** The first schema error of `value` as `<path> <message>`, or null when there is no explanation. */
export function whyInvalid(name: string, value: unknown): string | null {
  if (explainer === undefined) {
    try {
      explainer = (createRequire(import.meta.url)('../protocol/explain.js') as { explain: Explain }).explain;
    } catch {
      explainer = null;
    }
  }
  return explainer ? explainer(name, value) : null;
}
