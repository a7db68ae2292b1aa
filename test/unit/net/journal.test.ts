// The manager's --state journal (net/journal.ts): changes appended and fsynced one JSON line each,
// the state they add up to read back, a torn last line cut, a corrupt file refused, compaction to
// one snapshot line, --fresh, and the cost of a save.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, JournalError } from '../../../src/net/journal.js';
import { SNAPSHOT_VERSION, type Change } from '../../../src/manager/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'ringdht-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `state${++n}.jsonl`);

const entry = (i: number) => ({ name: `peer${i}`, ip: '127.0.0.1', mport: 5000 + 2 * i, pport: 5001 + 2 * i });
/** The change a register of peer i makes. */
const register = (i: number): Change => ({
  v: SNAPSHOT_VERSION, peers: { [`peer${i}`]: entry(i) }, dht: null, dhtCount: 0,
  answers: [{ to: { ip: '127.0.0.1', port: 5000 + 2 * i }, res: { t: 'res', rid: 1, cmd: 'register', code: 'SUCCESS', text: 'ok' } }], notices: [],
});
const names = (o: { saved: { state: { peers: { name: string }[] } } | null }): string[] => o.saved?.state.peers.map((p) => p.name) ?? [];

describe('the state journal', () => {
  it('a missing file starts empty; every change is a line; reopening gives the state they add up to', () => {
    const f = file();
    const a = Journal.open(f);
    expect(a.saved).toBeNull();
    expect(a.notes).toEqual([`no state in ${f} yet: starting with no peers and no DHT`]);
    a.journal.append(register(1));
    a.journal.append(register(2));
    a.journal.close();
    const lines = readFileSync(f, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`{"change":${JSON.stringify(register(1))}}`);
    const b = Journal.open(f);
    expect(names(b)).toEqual(['peer1', 'peer2']);
    expect(b.saved!.state.answers).toHaveLength(2);
    expect(b.notes).toEqual([]);
    b.journal.close();
  });

  it('a torn last line (a crash mid-write) is skipped with a note and cut, so the next line starts clean', () => {
    const f = file();
    writeFileSync(f, `{"change":${JSON.stringify(register(1))}}\n{"change":{"v":1,"pe`);
    const o = Journal.open(f);
    expect(names(o)).toEqual(['peer1']);
    expect(o.notes).toEqual([`skipped the torn last line of ${f} (20 bytes without a line end: a write cut short by a crash)`]);
    o.journal.append(register(2));
    o.journal.close();
    expect(readFileSync(f, 'utf8')).toBe(`{"change":${JSON.stringify(register(1))}}\n{"change":${JSON.stringify(register(2))}}\n`);
    expect(names(Journal.open(f))).toEqual(['peer1', 'peer2']);
  });

  it('garbage without a line end after the last good line (zeros after a power cut) is a torn tail', () => {
    const f = file();
    writeFileSync(f, `{"change":${JSON.stringify(register(1))}}\n`);
    appendFileSync(f, '\u0000\u0000\u0000');
    const o = Journal.open(f);
    expect(names(o)).toEqual(['peer1']);
    expect(o.notes[0]).toMatch(/^skipped the torn last line/);
    o.journal.close();
  });

  it('a complete line that is not JSON, or not a change, makes the file corrupt: refused in one line', () => {
    const cases: [string, RegExp][] = [
      [`{"change":${JSON.stringify(register(1))}}\nnot json\n`, /line 2 is not JSON \(.*\)/],
      ['{"x":1}\n', /line 1 is neither a snapshot nor a change/],
      ['{"change":{"v":2}}\n', /line 1 is not a state change \(version 1\): \/\w+ .*/],
      ['{"snapshot":{"v":1,"peers":[]}}\n', /line 1 is not a state snapshot \(version 1\): .*/],
    ];
    for (const [text, why] of cases) {
      const f = file();
      writeFileSync(f, text);
      expect(() => Journal.open(f)).toThrow(JournalError);
      expect(() => Journal.open(f)).toThrow(new RegExp(`^the state file .* is corrupt: ${why.source}; start with --fresh to set it aside and start empty$`));
      expect(existsSync(`${f}.lock`)).toBe(false);
    }
  });

  it('a file another live manager uses is refused; a lock left by a killed one is taken over; close gives it up', () => {
    const f = file();
    writeFileSync(`${f}.lock`, `${process.ppid}\n`); // a live process that is not this one
    expect(() => Journal.open(f)).toThrow(new RegExp(`^the state file .* is in use by process ${process.ppid} \\(.*\\.lock\\): two managers cannot share one state file$`));
    writeFileSync(`${f}.lock`, '999999999\n'); // no such process
    const o = Journal.open(f);
    expect(readFileSync(`${f}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    o.journal.close();
    expect(existsSync(`${f}.lock`)).toBe(false);
  });

  it('an unreadable file is refused in one line', () => {
    expect(() => Journal.open(dir)).toThrow(/^cannot read the state file .*: EISDIR/);
  });

  it('--fresh sets the old file aside (FILE.old) and starts empty', () => {
    const f = file();
    writeFileSync(f, `{"change":${JSON.stringify(register(1))}}\n`);
    const o = Journal.open(f, { fresh: true });
    expect(o.saved).toBeNull();
    expect(o.notes).toEqual([`--fresh: starting with no peers and no DHT; the old state is kept in ${f}.old`]);
    expect(readFileSync(`${f}.old`, 'utf8')).toBe(`{"change":${JSON.stringify(register(1))}}\n`);
    o.journal.close();
  });

  it('past its bound the file is compacted to one snapshot line (written aside, fsynced, renamed); the state is the same', () => {
    const f = file();
    const o = Journal.open(f, { compactMinBytes: 4000 });
    for (let i = 1; i <= 100; i++) o.journal.append(register(i));
    o.journal.close();
    expect(o.journal.stats.compactions).toBeGreaterThanOrEqual(2);
    expect(statSync(f).size).toBeLessThan(4000 + 8 * 20_000);
    expect(readFileSync(f, 'utf8')).toMatch(/^\{"snapshot":\{"v":1,"peers":\[/);
    expect(existsSync(`${f}.tmp`)).toBe(false);
    const again = Journal.open(f);
    expect(names(again)).toEqual(Array.from({ length: 100 }, (_, i) => `peer${i + 1}`));
    expect(again.saved!.state.answers).toHaveLength(100);
    again.journal.close();
  });

  it('the cost of a save (write + fsync), measured; it does not grow with the table', () => {
    const f = file();
    const o = Journal.open(f);
    const costs: number[] = [];
    for (let i = 1; i <= 2000; i++) {
      const before = o.journal.stats.totalMs;
      o.journal.append(register(i));
      costs.push(o.journal.stats.totalMs - before);
    }
    o.journal.close();
    const s = o.journal.stats;
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    process.stdout.write(`journal: ${s.saves} saves of ${Math.round(s.bytes / s.saves)} bytes: ${(s.totalMs / s.saves).toFixed(3)} ms each on average ` +
      `(first 100: ${avg(costs.slice(0, 100)).toFixed(3)} ms, last 100: ${avg(costs.slice(-100)).toFixed(3)} ms), ${s.maxMs.toFixed(2)} ms at most; ${s.compactions} compactions (${tmpdir()})\n`);
    expect(s.saves).toBe(2000);
    expect(names(Journal.open(f))).toHaveLength(2000);
  });
});
