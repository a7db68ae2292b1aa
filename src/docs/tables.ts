// Tables in the docs generated from the code: each between `<!-- MARKER -->` and
// `<!-- /MARKER -->` in a Markdown file. `npm run docs:tables` rewrites them
// (src/docs/write-tables.ts); test/unit/docs-tables.test.ts fails when a doc differs. Besides
// tables, the sequence diagrams of docs/PROTOCOL.md §5 (sequences.ts).
// To add a table, add its (marker, renderer) here and put the two markers in the doc.
import { renderManagerRules } from '../manager/table-doc.js';
import { acceptsMarkdown } from '../peer/accepts.js';
import { SEQUENCE_COMMANDS, renderSequence, sequenceCaption } from './sequences.js';

export interface DocTable {
  /** File relative to the repository root. */
  readonly file: string;
  /** `table:NAME`: the section sits between `<!-- table:NAME -->` and `<!-- /table:NAME -->`. */
  readonly marker: string;
  readonly render: () => string;
}

export const TABLES: readonly DocTable[] = [
  { file: 'docs/PROTOCOL.md', marker: 'table:manager-rules', render: renderManagerRules },
  { file: 'docs/PROTOCOL.md', marker: 'table:peer-accepts', render: acceptsMarkdown },
  ...SEQUENCE_COMMANDS.map((command) => ({
    file: 'docs/PROTOCOL.md', marker: `table:seq-${command}`, render: () => `${renderSequence(command)}

${sequenceCaption()}`,
  })),
];

export const REGENERATE = 'npm run docs:tables';

/** `text` with the section between the table's markers replaced by its rendering; an Error when the markers are missing. */
export function withTable(text: string, table: DocTable): string {
  const open = `<!-- ${table.marker} -->`;
  const close = `<!-- /${table.marker} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${table.file}: the markers ${open} … ${close} are missing or out of order`);
  return `${text.slice(0, start + open.length)}\n${table.render()}\n${text.slice(end)}`;
}

/** The section of `text` between the table's markers, as it is now (undefined without markers). */
export function currentSection(text: string, table: DocTable): string | undefined {
  const open = `<!-- ${table.marker} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(`<!-- /${table.marker} -->`);
  return start < 0 || end < start ? undefined : text.slice(start + open.length, end).replace(/^\n/, '').replace(/\n$/, '');
}
