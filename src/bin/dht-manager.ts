#!/usr/bin/env node
// dht-manager: the always-on manager of the ring DHT (SPEC §2), as separate ES modules. The
// installed command (package.json "bin") is the one-file build of the same modules,
// bin/dht-manager.cjs (bin/bundle-manager.ts: ~2.5 MB less resident memory), which comes back
// here when it is older than the modules. This entry sets V8's compiler and heap flags, which
// must come before the program's modules are compiled and run (static imports would all be
// evaluated first), then loads the program (bin/manager-main.ts).
import './manager-flags.js';

await import('./manager-main.js');
