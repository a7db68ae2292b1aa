// Writes dist/src/bin/dht-manager.cjs: dht-manager's compiled modules (bin/manager-flags.js,
// bin/manager-main.js and every module they import, statically or not) in one CommonJS file.
// Run by `npm run build` after tsc. Why: the manager's resident memory (issue 11, under 50 MB)
// is mostly node itself (a bare node: ~40 MB); node's ES-module loader and the records of ~55
// separate modules cost ~2.5 MB more than the same code as one CommonJS script
// (docs/BENCHMARKS.md, fifth round).
//
// Each module is turned into CommonJS by TypeScript's own transform (the one tsc applies with
// "module": "commonjs": imported names read through the exporting module's object, so cycles
// and live bindings behave as tsc's CommonJS output does) and wrapped in a function that is run
// on its first require(), in the order the ES modules would be evaluated. `import.meta.url`
// becomes the module's own file URL, so anything it locates (protocol/explain-lazy.ts loads
// protocol/explain.js beside it) is found where it is now. Node's built-ins and anything outside
// dist/ are loaded by node as usual.
//
// The file records the size and modification time of every module it holds. When one no
// longer matches (a later `tsc` alone, as during development), dht-manager.cjs runs
// bin/dht-manager.js instead, so it never runs older code than dist/ holds; so does
// $DHT_MANAGER_BUNDLE=0 (for comparisons).
import { readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The modules the manager starts from, evaluated in this order (relative to dist/src/bin). */
export const ENTRIES = ['./manager-flags.js', './manager-main.js'] as const;
export const OUTPUT = 'dht-manager.cjs';

const COMPILER: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  noEmitHelpers: true,
  sourceMap: false,
  // The file's text stays in memory as long as the manager runs: comments are the sources' job.
  removeComments: true,
};

/**
 * Built-ins loaded only when one of their functions is first called: they are imported for
 * something rare (`node:module`'s createRequire for the explanation of a failed check, which
 * loads node's ES-module loader with it; `node:os`'s hostname for an event log), and loading
 * them costs ~0.3 MB. Only named imports are allowed from them (checked below).
 */
export const LAZY_BUILTINS = ['node:module', 'node:os'] as const;

/** TypeScript's helpers (__importDefault, __exportStar, …), once for every module. */
function helpers(): string {
  const probe = 'import d from "a"; import * as n from "b"; export * from "c"; export { x } from "e"; void d; void n; void import("f");';
  const out = ts.transpileModule(probe, { compilerOptions: { ...COMPILER, noEmitHelpers: false }, fileName: 'probe.js' }).outputText;
  const end = out.indexOf('Object.defineProperty(exports, "__esModule"');
  if (end < 0) throw new Error('bundle-manager: unexpected shape of TypeScript\'s CommonJS output');
  return out.slice(0, end).replace(/^"use strict";\n/, '');
}

interface Module { key: string; file: string; code: string; size: number; mtimeMs: number }

/** A module's key: its path relative to the bin directory, in `/` form ('./x.js', '../net/y.js'). */
function keyOf(binDir: string, file: string): string {
  const rel = relative(binDir, file).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function collect(binDir: string): Module[] {
  const modules = new Map<string, Module>();
  const visit = (file: string): void => {
    const key = keyOf(binDir, file);
    if (modules.has(key)) return;
    const st = statSync(file);
    const source = readFileSync(file, 'utf8');
    const url = JSON.stringify(pathToFileURL(file).href);
    const withUrl = source.replace(/\bimport\.meta\.url\b/g, url);
    if (/\bimport\.meta\b/.test(withUrl)) throw new Error(`bundle-manager: ${key} uses import.meta beyond import.meta.url`);
    const out = ts.transpileModule(withUrl, { compilerOptions: COMPILER, fileName: file, reportDiagnostics: true });
    if (out.diagnostics?.length) throw new Error(`bundle-manager: ${key}: ${ts.flattenDiagnosticMessageText(out.diagnostics[0]!.messageText, '\n')}`);
    // The escapes below would change an escaped non-ASCII character or a raw template's text.
    if (/[^\x00-\x7f]/.test(out.outputText) && /\\[^\x00-\x7f]|String\.raw/.test(out.outputText)) throw new Error(`bundle-manager: ${key} has a raw or escaped non-ASCII text`);
    const code = out.outputText.replace(/^"use strict";\n/, '').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')
      // Non-ASCII characters (in strings, templates and regular expressions only, once comments
      // are gone) as \u escapes: one of them would make V8 keep the whole file's text in two
      // bytes per character.
      .replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (const spec of LAZY_BUILTINS) {
      if (code.includes(`(require("${spec}"))`)) throw new Error(`bundle-manager: ${key} imports ${spec} other than by name`);
    }
    // Whole milliseconds: a copy that keeps modification times (cp -p) keeps no more.
    modules.set(key, { key, file, code, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (imported.fileName.startsWith('.')) visit(join(dirname(file), imported.fileName));
    }
  };
  for (const entry of ENTRIES) visit(join(binDir, entry));
  return [...modules.values()];
}

/** The text of dht-manager.cjs for the compiled modules in `binDir` (dist/src/bin). */
export function bundle(binDir: string): string {
  const modules = collect(binDir);
  const inputs = modules.map((m) => [m.key, m.size, m.mtimeMs]);
  const bodies = modules.map((m) => `${JSON.stringify(m.key)}: function (exports, require) {\n${m.code}},`).join('\n');
  return `#!/usr/bin/env node
// GENERATED by bin/bundle-manager.js (npm run build): dht-manager's modules in one CommonJS file,
// for its resident memory. Do not edit; edit src/ and build.
'use strict';
const __dhtInputs = ${JSON.stringify(inputs)};
const __dhtFs = require('node:fs');
const __dhtPath = require('node:path');
const __dhtFresh = __dhtInputs.every(([key, size, mtimeMs]) => {
  try {
    const st = __dhtFs.statSync(__dhtPath.join(__dirname, key));
    return st.size === size && Math.round(st.mtimeMs) === mtimeMs;
  } catch {
    return false;
  }
});
if (!__dhtFresh || process.env.DHT_MANAGER_BUNDLE === '0') {
  // The modules were compiled again since this file was written (or $DHT_MANAGER_BUNDLE=0, to
  // compare): run them as they are.
  import('./dht-manager.js');
} else {
${helpers()}
  const __dhtModules = {
${bodies}
  };
  const __dhtLoaded = new Map();
  const __dhtLazy = new Set(${JSON.stringify(LAZY_BUILTINS)});
  const __dhtRequire = (from) => (spec) => {
    if (!spec.startsWith('.')) return __dhtLazy.has(spec) ? new Proxy({}, { get: (_, name) => require(spec)[name] }) : require(spec);
    let key = __dhtPath.posix.normalize(__dhtPath.posix.join(__dhtPath.posix.dirname(from), spec));
    if (!key.startsWith('.')) key = './' + key;
    let mod = __dhtLoaded.get(key);
    if (mod) return mod.exports;
    const body = __dhtModules[key];
    if (!body) return require(__dhtPath.join(__dirname, key));
    mod = { exports: {} };
    __dhtLoaded.set(key, mod);
    body(mod.exports, __dhtRequire(key));
    return mod.exports;
  };
${ENTRIES.map((e) => `  __dhtRequire('./')(${JSON.stringify(e)});`).join('\n')}
}
`;
}

// Run as a program (`node dist/src/bin/bundle-manager.js`): write the file beside this one.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const binDir = dirname(fileURLToPath(import.meta.url));
  const out = join(binDir, OUTPUT);
  writeFileSync(out, bundle(binDir));
  chmodSync(out, 0o755);
}
