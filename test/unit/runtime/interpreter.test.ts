// The shared effect interpreter with a small fake core and a recording port: every effect kind,
// the trace verdicts, the guard, and the `load` contract (answered later, never inside the handler).
import { describe, expect, it } from 'vitest';
import { Interpreter, type Core, type Port } from '../../../src/runtime/interpreter.js';
import { InvariantError } from '../../../src/runtime/assert.js';
import type { Effect, Loaded } from '../../../src/runtime/effects.js';
import type { Addr } from '../../../src/reliable/index.js';
import { encode } from '../../../src/protocol/codec.js';
import type { Message } from '../../../src/protocol/messages.js';

type FakeInput = { kind: 'line'; text: string } | { kind: 'datagram'; from: Addr; msg: Message } | Loaded;

const PEER: Addr = { ip: '127.0.0.1', port: 5001 };
const ACK: Message = { t: 'ack', rid: 7 };

/** A core that answers each input with whatever the test scripted, and records what it was given. */
class FakeCore implements Core<FakeInput> {
  inputs: FakeInput[] = [];
  script: (input: FakeInput) => Effect[] = () => [];
  deadline: number | undefined = 123;
  handle(_now: number, input: FakeInput): Effect[] {
    this.inputs.push(input);
    return this.script(input);
  }
  onTimeout(): Effect[] {
    return [{ kind: 'print', text: 'timeout' }];
  }
  nextDeadline(): number | undefined {
    return this.deadline;
  }
  nameOf(addr: Addr): string | undefined {
    return addr.port === PEER.port ? 'peer1' : undefined;
  }
}

function setup(trace: 'summary' | 'full' | 'off' = 'full', guard = true) {
  const core = new FakeCore();
  const log: string[] = [];
  const sent: { socket: string; to: Addr; bytes: Buffer }[] = [];
  const loads: { year: number; deliver: (l: Loaded) => void }[] = [];
  const armed: (number | undefined)[] = [];
  let exited: number | null = null;
  const port: Port = {
    now: () => 1000,
    transmit: (socket, to, bytes) => void sent.push({ socket, to, bytes }),
    print: (text) => void log.push(text),
    bind: (ip, m, p) => void log.push(`bind ${ip} ${m} ${p}`),
    unbind: () => void log.push('unbind'),
    load: (year, deliver) => void loads.push({ year, deliver }),
    processLine: (t) => `process: sent ${t.sent}`,
    exit: (code) => void (exited = code),
    arm: (d) => void armed.push(d),
  };
  const interp = new Interpreter<FakeInput>(core, port, { trace, maxPayload: 1400, guard });
  return { core, interp, log, sent, loads, armed, exited: () => exited };
}

describe('the effect interpreter', () => {
  it('carries out send (traced, encoded, on the named socket), print, bind, unbind and process-status in order, then arms the timer', () => {
    const t = setup();
    t.core.script = () => [
      { kind: 'send', via: 'p', to: PEER, msg: ACK, attempt: 2 },
      { kind: 'send', to: { ip: '10.0.0.9', port: 9 }, msg: ACK, attempt: 1 },
      { kind: 'print', text: 'hello' },
      { kind: 'bind', name: 'peer1', ip: '127.0.0.1', mport: 5000, pport: 5001 },
      { kind: 'unbind' },
      { kind: 'process-status' },
    ];
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.sent.map((s) => s.socket)).toEqual(['p', 'manager']);
    expect(t.sent[0]!.bytes.equals(encode(ACK))).toBe(true);
    expect(t.log[0]).toMatch(/^→ peer1 127\.0\.0\.1:5001 .*\[try 2\]$/);
    expect(t.log.slice(2)).toEqual(['hello', 'bind 127.0.0.1 5000 5001', 'unbind', 'process: sent 2']);
    expect(t.armed).toEqual([123]);
  });

  it('marks a duplicate in the receive trace, and counts ignored datagrams like complaints in summary mode', () => {
    const t = setup('summary');
    t.core.script = () => [{ kind: 'note', verdict: 'duplicate' }];
    t.interp.receive('p', PEER, encode({ t: 'teardown', rid: 1, sec: 'interpreterSecretAAAAA', origin: 'peer2', dissolve: false, epoch: 1 }));
    expect(t.log).toHaveLength(1);
    expect(t.log[0]).toMatch(/^← peer1 .*\(duplicate\)$/);
    t.core.script = () => [{ kind: 'note', verdict: 'ignored' }];
    for (let i = 0; i < 5; i++) t.interp.receive('p', PEER, encode({ t: 'teardown', rid: 2 + i, sec: 'interpreterSecretAAAAA', origin: 'peer2', dissolve: false, epoch: 1 }));
    expect(t.log).toHaveLength(2); // the first ignored one, the other four counted
    expect(t.log[1]).toMatch(/\(ignored\)$/);
    expect(t.core.inputs.every((i) => i.kind === 'datagram')).toBe(true);
  });

  it('complains once about an undecodable datagram and never hands it to the core', () => {
    const t = setup();
    t.interp.receive('manager', PEER, Buffer.from('not json'));
    t.interp.receive('manager', PEER, Buffer.from('not json either'));
    expect(t.core.inputs).toEqual([]);
    expect(t.log).toHaveLength(1);
    expect(t.log[0]).toMatch(/^bad datagram from 127\.0\.0\.1:5001/);
  });

  it('asks the port to load and feeds the answer back as a later `loaded` input', () => {
    const t = setup();
    t.core.script = (i) => (i.kind === 'line' ? [{ kind: 'load', year: 1950 }] : [{ kind: 'print', text: `got ${i.kind}` }]);
    t.interp.input({ kind: 'line', text: 'setup' });
    expect(t.loads.map((l) => l.year)).toEqual([1950]);
    expect(t.core.inputs).toHaveLength(1);
    t.loads[0]!.deliver({ kind: 'loaded', year: 1950, data: 'details-1950.csv is not in the data directory' });
    expect(t.core.inputs[1]).toEqual({ kind: 'loaded', year: 1950, data: 'details-1950.csv is not in the data directory' });
    expect(t.log).toContain('got loaded');
  });

  it('refuses a port that answers a load inside the handler (it would re-enter the core)', () => {
    const t = setup('off', false);
    const core = new FakeCore();
    core.script = (i) => (i.kind === 'line' ? [{ kind: 'load', year: 1996 }] : []);
    const port: Port = {
      now: () => 0, transmit: () => undefined, print: () => undefined, bind: () => undefined, unbind: () => undefined,
      load: (year, deliver) => deliver({ kind: 'loaded', year, data: 'x' }),
      processLine: () => null, exit: () => undefined, arm: () => undefined,
    };
    const interp = new Interpreter<FakeInput>(core, port, { trace: 'off', maxPayload: 1400, guard: false });
    expect(() => interp.input({ kind: 'line', text: 'setup' })).toThrow(InvariantError);
    expect(t.core.inputs).toEqual([]);
  });

  it('stops at exit: later effects are not carried out and later inputs are ignored', () => {
    const t = setup();
    t.core.script = () => [{ kind: 'print', text: 'bye' }, { kind: 'exit', code: 0 }, { kind: 'print', text: 'never' }];
    t.interp.input({ kind: 'line', text: 'quit' });
    expect(t.log).toEqual(['bye']);
    expect(t.exited()).toBe(0);
    expect(t.interp.isExited).toBe(true);
    t.interp.input({ kind: 'line', text: 'again' });
    t.interp.timeout();
    expect(t.core.inputs).toHaveLength(1);
  });

  it('guarded (the programs): a core exception is one line and the event is dropped', () => {
    const t = setup('off', true);
    t.core.script = () => {
      throw new InvariantError('table and ring disagree');
    };
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.log).toEqual(['internal error while handling a console line: invariant broken: table and ring disagree (the event was dropped; the process keeps running)']);
    t.interp.timeout();
    expect(t.log.at(-1)).toBe('timeout');
  });

  it('unguarded (the simulation): a core exception propagates', () => {
    const t = setup('off', false);
    t.core.script = () => {
      throw new InvariantError('table and ring disagree');
    };
    expect(() => t.interp.input({ kind: 'line', text: 'x' })).toThrow(InvariantError);
  });
});
