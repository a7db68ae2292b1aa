// `npm run docs:tables`: rewrite every generated table (tables.ts) in the docs, from the
// repository root (the current directory). Prints what changed.
import { readFileSync, writeFileSync } from 'node:fs';
import { TABLES, withTable } from './tables.js';

const byFile = new Map<string, typeof TABLES[number][]>();
for (const t of TABLES) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);

let failed = false;
for (const [file, tables] of byFile) {
  const before = readFileSync(file, 'utf8');
  let text = before;
  for (const t of tables) {
    try {
      text = withTable(text, t);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      failed = true;
    }
  }
  if (text !== before) writeFileSync(file, text);
  process.stdout.write(`${file}: ${tables.map((t) => t.marker).join(', ')} ${text === before ? 'unchanged' : 'rewritten'}\n`);
}
process.exitCode = failed ? 1 : 0;
