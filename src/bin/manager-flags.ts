// V8's compiler and heap flags for dht-manager, set as this module is evaluated: it must be
// evaluated before any module of the program is compiled and run (bin/dht-manager.ts and the
// one-file build bin/dht-manager.cjs, made by esbuild from bin/dht-manager.ts, both evaluate it first).
import { MANAGER_SEMI_SPACE_MB, capYoungGeneration, exposeGc, extraV8Flags, managerCompilerTiers, slowOldGenerationGrowth } from '../net/heap.js';

managerCompilerTiers();
// Before the program loads: loading it already fills the young generation a few times, and a
// cap set afterwards found it grown to twice the cap (2 MB semi-spaces instead of 1).
capYoungGeneration(MANAGER_SEMI_SPACE_MB);
slowOldGenerationGrowth();
exposeGc();
extraV8Flags();
extraV8Flags('DHT_MANAGER_V8_FLAGS');
