#!/usr/bin/env node
// dht-manager: the always-on manager of the ring DHT (SPEC §2), as separate ES modules. The
// installed command (package.json "bin") is the same program bundled into one CommonJS file by
// esbuild (`npm run build`: dist/src/bin/dht-manager.cjs), which takes ~2.5 MB less resident
// memory: node's ES-module loader and the records of ~55 modules (docs/BENCHMARKS.md, fifth round).
// manager-flags.js sets V8's compiler and heap flags as it is evaluated. The program is imported
// only after: a static import would be loaded and compiled first, and loading it already grows the
// young generation past the cap the flags set (+4 MB idle, measured). Not awaited, so that the
// bundle (CommonJS, no top-level await) is built from this same entry; a failure to load still
// ends the process with the error, as an unhandled rejection.
import './manager-flags.js';

void import('./manager-main.js');
