// The diagram program: arguments, unreadable and malformed logs, and its outputs.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSynthetic } from '../../../src/data/synthetic.js';
import { toLine } from '../../../src/data/line.js';
import { main, parse, run } from '../../../src/diagram/program.js';
import { LogError, parseLog } from '../../../src/diagram/read.js';
import { milestone } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'ringdht-diagram-cli-'));
let files: string[];
beforeAll(() => {
  files = milestone({ dir: join(root, 'run'), data: { year: 1950, lines: generateSynthetic(1950, 223, 1).map(toLine), source: 'synthetic' } });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function quiet(): string[] {
  const said: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { said.push(String(chunk)); return true; });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { said.push(String(chunk)); return true; });
  return said;
}

describe('npm run diagram', () => {
  it('exits 2 with the usage on bad arguments, 0 on --help', () => {
    const said = quiet();
    expect(main([])).toBe(2);
    expect(main(['--bogus', 'x.log'])).toBe(2);
    expect(main(['--out'])).toBe(2);
    expect(said.join('')).toContain('usage: npm run diagram');
    expect(main(['--help'])).toBe(0);
  });

  it('says in one line that a log cannot be read, and exits 1', () => {
    const said = quiet();
    expect(main([join(root, 'missing.log')])).toBe(1);
    expect(said.join('')).toMatch(/^diagram: cannot read .*missing\.log: ENOENT\n$/);
    const notLog = join(root, 'not-a-log.txt');
    writeFileSync(notLog, 'hello\nworld\n');
    expect(main([notLog])).toBe(1);
    expect(said.join('')).toContain('is not an event log');
  });

  it('skips malformed lines and counts them', () => {
    const broken = join(root, 'broken');
    mkdirSync(broken);
    const copies = files.map((f, i) => {
      const to = join(broken, `${i}.log`);
      writeFileSync(to, readFileSync(f));
      return to;
    });
    appendFileSync(copies[1]!, 'not json\n{"k":"send","t":1}\n[1,2]\n{"k":"recv","t":5,"type":"ack","src":"1.2.3.4:5","dst":"127.0.0.1:50');
    const out = join(broken, 'd.html');
    const { lines, merged } = run({ logs: copies, out });
    expect(lines[0]).toBe(`warning: ${copies[1]}: skipped 4 lines that are not event-log lines`);
    expect(merged.procs).toHaveLength(4);
    expect(existsSync(out)).toBe(true);
  });

  it('refuses a log of another format version', () => {
    expect(() => parseLog('x.log', '{"k":"header","v":99,"proc":"p","host":"h","pid":1,"wall":"","t":0}\n')).toThrow(LogError);
  });

  it('writes the three outputs, defaulting to diagram.html', () => {
    expect(parse(['a.log'])).toMatchObject({ out: 'diagram.html', logs: ['a.log'] });
    const dir = join(root, 'out');
    mkdirSync(dir);
    const said = quiet();
    expect(main(['--out', join(dir, 'd.html'), '--shiviz', join(dir, 's.log'), '--perfetto', join(dir, 'p.json'), ...files])).toBe(0);
    expect(said.join('')).toContain('4 processes');
    expect(readFileSync(join(dir, 'd.html'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(readFileSync(join(dir, 's.log'), 'utf8').split('\n')[0]).toContain('(?<host>');
    expect(JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8'))).toHaveProperty('traceEvents');
  });

  it('runs as a program once built', () => {
    const cli = join(process.cwd(), 'dist', 'src', 'diagram', 'cli.js');
    if (!existsSync(cli)) return; // `npm test` builds first; a bare vitest run may not have
    const r = spawnSync(process.execPath, [cli], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('diagram: no LOG file given');
  });
});
