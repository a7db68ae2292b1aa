#!/usr/bin/env node
// npm run diagram -- [--out FILE.html] [--shiviz FILE] [--perfetto FILE] LOG...
// Merges the event logs of several processes (written with --log) into a time-space diagram.
import { main } from './program.js';

process.exitCode = main(process.argv.slice(2));
