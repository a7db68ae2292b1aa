// The `persist` effect (PROTOCOL §4.10): carried out in order, before the sends that follow it; a
// state that cannot be saved ends the process (exit 1) before any of them goes out.
import { describe, expect, it } from 'vitest';
import { Interpreter, type Core, type Port } from '../../../src/runtime/interpreter.js';
import type { Effect } from '../../../src/runtime/effects.js';
import type { Addr } from '../../../src/reliable/index.js';

type Input = { kind: 'line'; text: string };
const PEER: Addr = { ip: '127.0.0.1', port: 5001 };
const EFFECTS: Effect[] = [
  { kind: 'print', text: 'register peer1: SUCCESS' },
  { kind: 'persist', change: { v: 1, peers: ['peer1'] } },
  { kind: 'send', to: PEER, msg: { t: 'res', rid: 1, cmd: 'register', code: 'SUCCESS', text: 'ok' }, attempt: 1 },
];

function setup(persist?: (state: unknown) => void) {
  const events: string[] = [];
  const core: Core<Input> = {
    handle: () => EFFECTS,
    onTimeout: () => [],
    nextDeadline: () => undefined,
    nameOf: () => undefined,
  };
  const port: Port = {
    now: () => 0,
    transmit: () => void events.push('transmit'),
    print: (text) => void events.push(`print ${text}`),
    bind: () => undefined,
    unbind: () => undefined,
    load: () => undefined,
    processLine: () => null,
    exit: (code) => void events.push(`exit ${code}`),
    arm: () => undefined,
    ...(persist ? { persist: (change: unknown) => { events.push('persist'); persist(change); } } : {}),
  };
  const interp = new Interpreter<Input>(core, port, { trace: 'off', maxPayload: 1400, guard: true });
  return { interp, events };
}

describe('the persist effect', () => {
  it('is carried out in order: saved before the answer is transmitted', () => {
    const saved: unknown[] = [];
    const t = setup((s) => void saved.push(s));
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.events).toEqual(['print register peer1: SUCCESS', 'persist', 'transmit']);
    expect(saved).toEqual([{ v: 1, peers: ['peer1'] }]);
  });

  it('is a no-op for a port without persist (a manager without --state)', () => {
    const t = setup();
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.events).toEqual(['print register peer1: SUCCESS', 'transmit']);
  });

  it('a save that fails: one line, exit 1, and the answer is never sent', () => {
    const t = setup(() => { throw new Error('ENOSPC: no space left on device, write'); });
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.events).toEqual([
      'print register peer1: SUCCESS',
      'persist',
      'print cannot save the state: ENOSPC: no space left on device, write; exiting before any answer reports a change that is not on disk',
      'exit 1',
    ]);
    expect(t.interp.isExited).toBe(true);
  });
});
