// Under vitest the programs' sources run as TypeScript, where explain-lazy.ts cannot require()
// explain.js: hand it the explainer, so that refusals read exactly as in the programs.
import { setExplainer } from '../../src/protocol/explain-lazy.js';
import { explain } from '../../src/protocol/explain.js';

setExplainer(explain);
