// Console input into lines (src/net/console-lines.ts): whatever the chunks, the same lines in
// order; a line too long is dropped with one report and the lines after it still come.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LineSplitter } from '../../src/net/console-lines.js';

function split(chunks: string[], max = 16): { lines: string[]; tooLong: number[] } {
  const lines: string[] = [];
  const tooLong: number[] = [];
  const s = new LineSplitter((l) => lines.push(l), (n) => tooLong.push(n), max);
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, tooLong };
}

describe('console lines', () => {
  it('are the same however the input is cut into chunks, CRLF or LF', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z ]{0,15}$/), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (lines, cuts, crlf) => {
      const text = lines.map((l) => l + (crlf ? '\r\n' : '\n')).join('');
      const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const ends = [...at, text.length];
      const chunks = ends.map((end, i) => text.slice(i === 0 ? 0 : ends[i - 1], end));
      expect(split(chunks).lines).toEqual(lines);
    }));
  });

  it('drop a line longer than the bound, once, and keep the lines around it', () => {
    const { lines, tooLong } = split(['first\n', 'x'.repeat(10), 'x'.repeat(10), 'x'.repeat(100), 'y\nlast\n']);
    expect(lines).toEqual(['first', 'last']);
    expect(tooLong).toHaveLength(1);
  });

  it('keep a last line without its newline', () => {
    expect(split(['a\nb']).lines).toEqual(['a', 'b']);
  });
});
