// The tables and sequence diagrams in the docs generated from the code (src/docs/tables.ts) are up to date.
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { REGENERATE, TABLES, currentSection, withTable } from '../../src/docs/tables.js';

describe('docs: generated tables match the code', () => {
  it.each(TABLES.map((t) => [t.marker, t.file, t] as const))('%s in %s', (marker, file, table) => {
    const text = readFileSync(file, 'utf8');
    const section = currentSection(text, table);
    expect(section, `${file} has no <!-- ${marker} --> … <!-- /${marker} --> section; add the markers and run \`${REGENERATE}\``).toBeDefined();
    expect(section, `${file}: the ${marker} table differs from the code; run \`${REGENERATE}\``).toBe(table.render());
  });

  it('rewriting replaces only what lies between the markers, and is idempotent', () => {
    const table = { file: 'x.md', marker: 'table:t', render: () => '| a |\n|---|' };
    const doc = 'before\n<!-- table:t -->\nold\n<!-- /table:t -->\nafter\n';
    const once = withTable(doc, table);
    expect(once).toBe('before\n<!-- table:t -->\n| a |\n|---|\n<!-- /table:t -->\nafter\n');
    expect(withTable(once, table)).toBe(once);
    expect(() => withTable('no markers', table)).toThrow(/markers/);
  });
});
