#!/usr/bin/env node
// dht-manager: the always-on manager of the ring DHT (SPEC §2). This entry only sets V8's
// compiler and heap flags, which must come before the program's modules are compiled and run
// (static imports would all be evaluated first), then loads the program (bin/manager-main.ts).
import { MANAGER_SEMI_SPACE_MB, capYoungGeneration, exposeGc, extraV8Flags, managerCompilerTiers, slowOldGenerationGrowth } from '../net/heap.js';

managerCompilerTiers();
// Before the program loads: loading it already fills the young generation a few times, and a
// cap set afterwards found it grown to twice the cap (2 MB semi-spaces instead of 1).
capYoungGeneration(MANAGER_SEMI_SPACE_MB);
slowOldGenerationGrowth();
exposeGc();
extraV8Flags();
await import('./manager-main.js');
