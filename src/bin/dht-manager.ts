#!/usr/bin/env node
// dht-manager: the always-on manager of the ring DHT (SPEC §2). This entry only sets V8's
// compiler flags, which must come before the program's modules are compiled and run (static
// imports would all be evaluated first), then loads the program (bin/manager-main.ts).
import { extraV8Flags, managerCompilerTiers } from '../net/heap.js';

managerCompilerTiers();
extraV8Flags();
await import('./manager-main.js');
