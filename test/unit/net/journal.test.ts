// The manager's --state journal (net/journal.ts): snapshots appended and fsynced one JSON line
// each, the last one read back, a torn last line cut, a corrupt file refused, compaction, --fresh.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, JournalError } from '../../../src/net/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'ringdht-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `state${++n}.jsonl`);

describe('the state journal', () => {
  it('a missing file starts empty; every append is a line; reopening gives the last one', () => {
    const f = file();
    const a = Journal.open(f);
    expect(a.saved).toBeNull();
    expect(a.notes).toEqual([`no state in ${f} yet: starting with no peers and no DHT`]);
    a.journal.append({ v: 1, x: 1 });
    a.journal.append({ v: 1, x: 2 });
    a.journal.close();
    expect(readFileSync(f, 'utf8')).toBe('{"v":1,"x":1}\n{"v":1,"x":2}\n');
    const b = Journal.open(f);
    expect(b.saved).toEqual({ state: { v: 1, x: 2 } });
    expect(b.notes).toEqual([]);
    b.journal.close();
  });

  it('a torn last line (a crash mid-write) is skipped with a note and cut, so the next line starts clean', () => {
    const f = file();
    writeFileSync(f, '{"x":1}\n{"x":2}\n{"x":');
    const o = Journal.open(f);
    expect(o.saved).toEqual({ state: { x: 2 } });
    expect(o.notes).toEqual([`skipped the torn last line of ${f} (5 bytes without a line end: a write cut short by a crash)`]);
    o.journal.append({ x: 3 });
    o.journal.close();
    expect(readFileSync(f, 'utf8')).toBe('{"x":1}\n{"x":2}\n{"x":3}\n');
  });

  it('a last complete line that is not JSON is refused in one line (never an empty start over it)', () => {
    const f = file();
    writeFileSync(f, '{"x":1}\nnot json\n');
    expect(() => Journal.open(f)).toThrow(JournalError);
    expect(() => Journal.open(f)).toThrow(/^the state file .* is corrupt: line 2 is not JSON \(.*\); start with --fresh to set it aside and start empty$/);
  });

  it('an unreadable file is refused in one line', () => {
    expect(() => Journal.open(dir)).toThrow(/^cannot read the state file .*: EISDIR/);
  });

  it('--fresh sets the old file aside (FILE.old) and starts empty', () => {
    const f = file();
    writeFileSync(f, '{"x":1}\n');
    const o = Journal.open(f, { fresh: true });
    expect(o.saved).toBeNull();
    expect(o.notes).toEqual([`--fresh: starting with no peers and no DHT; the old state is kept in ${f}.old`]);
    expect(readFileSync(`${f}.old`, 'utf8')).toBe('{"x":1}\n');
    o.journal.close();
  });

  it('past its bound the file is compacted to the last snapshot (written aside, fsynced, renamed)', () => {
    const f = file();
    const o = Journal.open(f, { compactMinBytes: 1000 });
    for (let i = 0; i < 200; i++) o.journal.append({ i, pad: 'x'.repeat(40) });
    o.journal.close();
    expect(o.journal.stats.compactions).toBeGreaterThan(5);
    expect(statSync(f).size).toBeLessThanOrEqual(1100);
    expect(existsSync(`${f}.tmp`)).toBe(false);
    const again = Journal.open(f);
    expect(again.saved).toEqual({ state: { i: 199, pad: 'x'.repeat(40) } });
    again.journal.close();
  });

  it('the cost of a save (write + fsync), measured', () => {
    const f = file();
    const o = Journal.open(f);
    // A snapshot of about 40 registered peers and a DHT: the size a class exercise has.
    const state = { v: 1, peers: Array.from({ length: 40 }, (_, i) => ({ name: `peer${i}`, ip: '127.0.0.1', mport: 5000 + 2 * i, pport: 5001 + 2 * i })) };
    for (let i = 0; i < 50; i++) o.journal.append(state);
    o.journal.close();
    const s = o.journal.stats;
    process.stdout.write(`journal: ${s.saves} saves of ${Math.round(s.bytes / s.saves)} bytes: ${(s.totalMs / s.saves).toFixed(2)} ms each on average, ${s.maxMs.toFixed(2)} ms at most (${tmpdir()})\n`);
    expect(s.saves).toBe(50);
  });

  it('appendFileSync-style garbage after a good line is a torn tail only without a line end', () => {
    const f = file();
    writeFileSync(f, '{"x":1}\n');
    appendFileSync(f, '\u0000\u0000\u0000');
    const o = Journal.open(f);
    expect(o.saved).toEqual({ state: { x: 1 } });
    expect(o.notes[0]).toMatch(/^skipped the torn last line/);
    o.journal.close();
  });
});
