// What a person types (SPEC §5: a mistyped console command gets usage help, never a stack trace)
// and what a flood of bad datagrams does to the console (§7: a clear error line, not a flood).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseLine, helpText, usage, PEER_COMMANDS, MANAGER_COMMANDS, type Parsed, type PeerCommand } from '../../src/console/commands.js';
import { Complaints } from '../../src/console/ratelimit.js';

/** Arguments that make each peer command valid. */
const VALID: Record<string, string[]> = {
  register: ['peer1', '127.0.0.1', '6000', '6001'],
  'setup-dht': ['peer1', '3', '1950'],
  'dht-complete': ['peer1'],
  'query-dht': ['peer1', '5536849'],
  'leave-dht': ['peer1'],
  'join-dht': ['peer1'],
  'dht-rebuilt': ['peer1', 'peer2'],
  deregister: ['peer1'],
  'teardown-dht': ['peer1'],
  'teardown-complete': ['peer1'],
  'dht-abort': ['peer1'],
  help: [],
  status: [],
  quit: [],
};

const SPEC_COMMANDS = ['register', 'setup-dht', 'dht-complete', 'query-dht', 'leave-dht', 'join-dht', 'dht-rebuilt',
  'deregister', 'teardown-dht', 'teardown-complete'];

const parse = (line: string): Parsed => parseLine(line, PEER_COMMANDS);

function errorText(line: string): string {
  const p = parse(line);
  expect(p.kind, `'${line}' should be refused`).toBe('error');
  const text = (p as { text: string }).text;
  expect(text, 'one line').not.toMatch(/\n/);
  return text;
}

describe('console: peer commands', () => {
  it('knows every command of the specification, plus dht-abort, help, status and quit', () => {
    expect(Object.keys(PEER_COMMANDS).sort()).toEqual(Object.keys(VALID).sort());
    for (const c of SPEC_COMMANDS) expect(PEER_COMMANDS[c as PeerCommand]!.toManager).toBe(true);
    for (const c of ['help', 'status', 'quit']) expect(PEER_COMMANDS[c as PeerCommand]!.toManager).toBe(false);
  });

  it.each(Object.entries(VALID))('%s with the right arguments is accepted as typed', (cmd, args) => {
    expect(parse([cmd, ...args].join(' '))).toEqual({ kind: 'command', cmd, args });
  });

  it.each(Object.entries(VALID))('%s with one argument too many is a one-line usage error naming the command', (cmd, args) => {
    const text = errorText([cmd, ...args, 'extra'].join(' '));
    expect(text.startsWith(`${cmd}:`)).toBe(true);
    expect(text).toContain(`usage: ${usage(cmd, PEER_COMMANDS[cmd as PeerCommand]!)}`);
    expect(text).toContain(`got ${args.length + 1}`);
  });

  it.each(Object.entries(VALID).filter(([cmd, args]) => args.length > 0 && cmd !== 'query-dht'))(
    '%s with one argument too few is a one-line usage error naming the command', (cmd, args) => {
      const text = errorText([cmd, ...args.slice(0, -1)].join(' '));
      expect(text.startsWith(`${cmd}:`)).toBe(true);
      expect(text).toContain('usage:');
      expect(text).toContain(`expected ${args.length} argument`);
    });

  it("query-dht without an event id is accepted (the peer asks for it); with none at all it is not", () => {
    expect(parse('query-dht peer1')).toEqual({ kind: 'command', cmd: 'query-dht', args: ['peer1'] });
    const text = errorText('query-dht');
    expect(text).toMatch(/^query-dht: expected 1 or 2 arguments, got 0/);
    expect(text).toContain('usage: query-dht <peer-name> [event-id]');
  });

  it('extra spaces and tabs do not matter; the command word is case-insensitive', () => {
    expect(parse('  setup-dht\tpeer1   3  1950 ')).toEqual({ kind: 'command', cmd: 'setup-dht', args: ['peer1', '3', '1950'] });
    expect(parse('REGISTER peer1 localhost 6000 6001')).toEqual({ kind: 'command', cmd: 'register', args: ['peer1', 'localhost', '6000', '6001'] });
  });

  it.each(['', '   ', '\t \t'])('an empty line (%j) is nothing, not an error', (line) => {
    expect(parse(line)).toEqual({ kind: 'empty' });
  });
});

describe('console: typos and bad arguments are explained', () => {
  it.each([
    ['regster', 'register'],
    ['registr', 'register'],
    ['setup-dth', 'setup-dht'],
    ['query', 'query-dht'],
    ['setup', 'setup-dht'],
    ['Leave', 'leave-dht'],
    ['qurey-dht', 'query-dht'],
    ['hlep', 'help'],
    ['xyzzy', null],
  ])("'%s' is an unknown command, suggesting %s", (typo, guess) => {
    const text = errorText(`${typo} peer1`);
    expect(text).toContain(`unknown command '${typo}'`);
    expect(text).toContain('help');
    if (guess) expect(text).toContain(`did you mean '${guess}'?`);
    else expect(text).not.toContain('did you mean');
  });

  it("a prefix of several commands names each: 'teardown' may be teardown-dht or teardown-complete", () => {
    expect(errorText('teardown peer1')).toContain("did you mean 'teardown-dht' or 'teardown-complete'?");
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    "'%s' (a name every JavaScript object has) is an unknown command, not a crash", (word) => {
      expect(errorText(word)).toContain(`unknown command '${word}'`);
      expect(errorText(`${word} peer1`)).toContain(`unknown command '${word}'`);
      expect(parseLine(word, MANAGER_COMMANDS).kind).toBe('error');
    });

  it.each([
    ['256.0.0.1'], ['1.2.3'], ['1.2.3.4.5'], ['a.b.c.d'], ['1..2.3'], ['example.com'], ['1.2.3.-4'],
  ])('register with IPv4 %s is refused, naming the value', (ip) => {
    const text = errorText(`register peer1 ${ip} 6000 6001`);
    expect(text).toMatch(/^register: /);
    expect(text).toContain(`'${ip}' is not a dotted-decimal IPv4 address`);
  });

  it('localhost is accepted as an IPv4', () => {
    expect(parse('register peer1 localhost 6000 6001').kind).toBe('command');
  });

  it.each([
    ['0', 'm-port'], ['65536', 'm-port'], ['abc', 'm-port'], ['-1', 'm-port'], ['6000.5', 'm-port'], ['999999', 'm-port'],
  ])('m-port %s is refused', (port, role) => {
    const text = errorText(`register peer1 127.0.0.1 ${port} 6001`);
    expect(text).toContain(`${role} '${port}' is not a port 1–65535`);
  });

  it.each([['0'], ['65536'], ['x']])('p-port %s is refused', (port) => {
    expect(errorText(`register peer1 127.0.0.1 6000 ${port}`)).toContain(`p-port '${port}' is not a port`);
  });

  it.each([['6000', '6000'], ['6000', '06000'], ['00080', '80']])('m-port %s and p-port %s are the same port: refused', (m, p) => {
    expect(errorText(`register peer1 127.0.0.1 ${m} ${p}`)).toContain('m-port and p-port must differ');
  });

  it('ports 1 and 65535 are fine', () => {
    expect(parse('register peer1 127.0.0.1 1 65535').kind).toBe('command');
  });

  it.each([['1949'], ['2020'], ['19500'], ['195'], ['abcd'], ['-1950']])('year %s is refused: it must be 1950–2019', (y) => {
    expect(errorText(`setup-dht peer1 3 ${y}`)).toContain(`year '${y}' is not between 1950 and 2019`);
  });

  it.each([['1950'], ['2019'], ['1996']])('year %s is fine', (y) => {
    expect(parse(`setup-dht peer1 3 ${y}`).kind).toBe('command');
  });

  it.each([['three'], ['-3'], ['3.5'], ['0x3']])('n %s is refused', (n) => {
    expect(errorText(`setup-dht peer1 ${n} 1950`)).toContain(`n '${n}' is not a whole number`);
  });

  it('n larger than the largest ring is refused before anything is sent', () => {
    expect(errorText('setup-dht peer1 5000 1950')).toContain(`n '5000' is larger than the largest ring (256)`);
  });

  it.each([['abc'], ['-5'], ['1e5'], ['12.5'], ['1234567890123456']])('event id %s is refused', (id) => {
    expect(errorText(`query-dht peer1 ${id}`)).toContain(`event id '${id}' is not a whole number`);
  });

  it.each([
    ['leave-dht 1peer', '1peer'],
    ['leave-dht peer_1', 'peer_1'],
    ['leave-dht abcdefghijklmnop', 'abcdefghijklmnop'],
    ['dht-rebuilt peer1 9lives', '9lives'],
  ])('%s: a bad peer name is explained', (line, bad) => {
    expect(errorText(line)).toContain(`'${bad}' is not a peer name (1–15 letters or digits, starting with a letter)`);
  });

  it('a very long bad argument is quoted briefly', () => {
    const text = errorText(`register peer1 ${'9'.repeat(5000)} 6000 6001`);
    expect(text.length).toBeLessThan(200);
  });

  it('no line whatsoever makes parseLine throw, and every refusal is one line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (line) => {
        const p = parse(line);
        if (p.kind === 'error') expect(p.text).not.toMatch(/\n/);
        if (p.kind === 'command') expect(Object.keys(PEER_COMMANDS)).toContain(p.cmd);
      }),
      { numRuns: 1000 },
    );
  });

  it('random words after a known command never throw', () => {
    const word = fc.oneof(fc.string({ maxLength: 12 }).filter((w) => !/\s/.test(w) && w.length > 0), fc.constantFrom('peer1', '127.0.0.1', '6000', '1950', '3'));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(PEER_COMMANDS)), fc.array(word, { maxLength: 6 }), (cmd, args) => {
        const p = parse([cmd, ...args].join(' '));
        expect(['command', 'error']).toContain(p.kind);
        if (p.kind === 'error') expect(p.text.startsWith(`${cmd}:`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('console: help', () => {
  it('lists every peer command with its usage and a description', () => {
    const lines = helpText(PEER_COMMANDS);
    expect(lines[0]).toBe('commands:');
    for (const [cmd, spec] of Object.entries(PEER_COMMANDS)) {
      const line = lines.find((l) => l.trim().startsWith(`${cmd} `) || l.trim() === cmd);
      expect(line, cmd).toBeDefined();
      expect(line).toContain(usage(cmd, spec));
      expect(line).toContain(spec.help);
    }
    expect(lines).toHaveLength(Object.keys(PEER_COMMANDS).length + 1);
  });

  it('usage lines show required and optional arguments', () => {
    expect(usage('register', PEER_COMMANDS.register!)).toBe('register <peer-name> <IPv4> <m-port> <p-port>');
    expect(usage('query-dht', PEER_COMMANDS['query-dht']!)).toBe('query-dht <peer-name> [event-id]');
    expect(usage('dht-rebuilt', PEER_COMMANDS['dht-rebuilt']!)).toBe('dht-rebuilt <peer-name> <new-leader>');
  });

  it('the manager console has its own small language with the same help', () => {
    expect(parseLine('status', MANAGER_COMMANDS)).toEqual({ kind: 'command', cmd: 'status', args: [] });
    expect(parseLine('register peer1 127.0.0.1 6000 6001', MANAGER_COMMANDS).kind).toBe('error');
    const lines = helpText(MANAGER_COMMANDS);
    for (const c of ['status', 'help', 'quit']) expect(lines.some((l) => l.trim().startsWith(c))).toBe(true);
  });
});

describe('console: complaints about bad datagrams are rate-limited', () => {
  it('the first is printed, the next ones in the interval are counted, the next report says how many', () => {
    const c = new Complaints(1000);
    expect(c.note(0, 'bad-json', 'bad datagram from 10.0.0.9:5000: not JSON')).toBe('bad datagram from 10.0.0.9:5000: not JSON');
    expect(c.note(100, 'bad-json', 'x')).toBeNull();
    expect(c.note(500, 'bad-json', 'x')).toBeNull();
    expect(c.note(999, 'bad-json', 'x')).toBeNull();
    const report = c.note(1000, 'bad-json', 'bad datagram again');
    expect(report).toMatch(/^bad datagram again/);
    expect(report).toContain('and 3 more');
  });

  it('after a report the count starts again; with nothing suppressed there is no suffix', () => {
    const c = new Complaints(1000);
    c.note(0, 'k', 'a');
    c.note(10, 'k', 'a');
    expect(c.note(1000, 'k', 'b')).toContain('and 1 more');
    expect(c.note(1500, 'k', 'c')).toBeNull();
    expect(c.note(2000, 'k', 'd')).toContain('and 1 more');
    expect(c.note(5000, 'k', 'e')).toBe('e');
  });

  it('different kinds of complaint are limited separately', () => {
    const c = new Complaints(1000);
    expect(c.note(0, 'oversized', 'big')).toBe('big');
    expect(c.note(1, 'not-json', 'junk')).toBe('junk');
    expect(c.note(2, 'oversized', 'big')).toBeNull();
    expect(c.note(3, 'not-json', 'junk')).toBeNull();
  });

  it('a flood prints at most one line per interval per kind, and loses no count', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }), (steps) => {
        const c = new Complaints(100);
        let now = 0;
        let printed = 0;
        let counted = 0;
        let lastPrint = -Infinity;
        for (const s of steps) {
          now += s;
          const line = c.note(now, 'flood', 'bad');
          if (line === null) continue;
          expect(now - lastPrint).toBeGreaterThanOrEqual(100);
          lastPrint = now;
          printed += 1;
          counted += Number(/and (\d+) more/.exec(line)?.[1] ?? 0);
        }
        const pending = steps.length - printed - counted;
        expect(pending).toBeGreaterThanOrEqual(0);
        // one more complaint after the interval reports everything not yet reported
        const last = c.note(now + 100, 'flood', 'bad')!;
        expect(Number(/and (\d+) more/.exec(last)?.[1] ?? 0)).toBe(pending);
      }),
    );
  });
});
