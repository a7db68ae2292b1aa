// The interpreter's turn queue (src/runtime/coalesce.ts) with a port that defers like the shells:
// the messages of one turn to one destination leave as one datagram when the turn ends, nothing
// waits longer, a message that travels alone keeps its place in the destination's order, sockets
// closing or a process exiting take what waits with them first, and a received pack reaches the
// core message by message, a bad line complained about and the rest taken.
import { describe, expect, it } from 'vitest';
import { Interpreter, type Core, type Port } from '../../../src/runtime/interpreter.js';
import type { Effect } from '../../../src/runtime/effects.js';
import type { Addr } from '../../../src/reliable/index.js';
import { encode } from '../../../src/protocol/codec.js';
import { pack } from '../../../src/protocol/pack.js';
import type { Message } from '../../../src/protocol/messages.js';

type Input = { kind: 'line'; text: string } | { kind: 'datagram'; from: Addr; msg: Message };
const A: Addr = { ip: '127.0.0.1', port: 5001 };
const B: Addr = { ip: '127.0.0.1', port: 5003 };
const ack = (rid: number): Message => ({ t: 'ack', rid });

function setup(script: (input: Input) => Effect[], options: { pack?: boolean; maxPayload?: number } = {}) {
  const got: Input[] = [];
  const core: Core<Input> = {
    handle: (_now, input) => {
      got.push(input);
      return script(input);
    },
    onTimeout: () => [{ kind: 'send', to: A, msg: ack(99), attempt: 1 }],
    nextDeadline: () => undefined,
    nameOf: () => undefined,
  };
  const sent: { to: Addr; text: string }[] = [];
  const log: string[] = [];
  const deferred: (() => void)[] = [];
  const port: Port = {
    now: () => 0,
    transmit: (_socket, to, bytes) => void sent.push({ to, text: bytes.toString() }),
    print: (text) => void log.push(text),
    bind: () => undefined,
    unbind: () => void log.push('unbind'),
    load: () => undefined,
    processLine: () => null,
    exit: () => void log.push('exit'),
    arm: () => undefined,
    defer: (run) => void deferred.push(run),
  };
  const interp = new Interpreter<Input>(core, port, { trace: 'off', maxPayload: options.maxPayload ?? 1400, guard: true, ...(options.pack === false ? { pack: false } : {}) });
  const endTurn = (): void => {
    for (const run of deferred.splice(0)) run();
  };
  return { interp, sent, log, got, deferred, endTurn };
}

const send = (to: Addr, msg: Message): Effect => ({ kind: 'send', to, msg, attempt: 1 });

describe('the turn queue', () => {
  it('sends the messages of one turn to one destination as one datagram when the turn ends', () => {
    const t = setup((i) => (i.kind === 'line' ? [send(A, ack(Number(i.text))), send(B, ack(100 + Number(i.text)))] : []));
    t.interp.input({ kind: 'line', text: '1' });
    t.interp.input({ kind: 'line', text: '2' });
    expect(t.sent).toEqual([]);
    expect(t.deferred.length).toBe(1); // one flush per turn, however many inputs
    t.endTurn();
    expect(t.sent).toEqual([
      { to: A, text: `${encode(ack(1))}\n${encode(ack(2))}` },
      { to: B, text: `${encode(ack(101))}\n${encode(ack(102))}` },
    ]);
    expect(t.interp.traffic).toMatchObject({ sent: 2, sentMessages: 4 });
  });

  it('sends each message alone when packing is off', () => {
    const t = setup(() => [send(A, ack(1)), send(A, ack(2))], { pack: false });
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.sent.map((s) => s.text)).toEqual([encode(ack(1)).toString(), encode(ack(2)).toString()]);
  });

  it('keeps the order of a destination when a message must travel alone (fragments)', () => {
    const big: Message = { t: 'res', rid: 5, cmd: 'setup-dht', code: 'SUCCESS', text: 'x', peers: Array.from({ length: 40 }, (_, i) => ({ name: `peer${i}`, ip: '127.0.0.1', port: 6000 + i })) };
    const t = setup(() => [send(A, ack(1)), send(B, ack(2)), send(A, big), send(A, ack(3))]);
    t.interp.input({ kind: 'line', text: 'x' });
    // The ack queued for A leaves before the fragments; B's waits for the end of the turn.
    expect(t.sent[0]).toEqual({ to: A, text: encode(ack(1)).toString() });
    expect(t.sent.slice(1).every((s) => s.to === A && s.text.startsWith('{"t":"frag"'))).toBe(true);
    t.endTurn();
    expect(t.sent.slice(-2)).toEqual([{ to: B, text: encode(ack(2)).toString() }, { to: A, text: encode(ack(3)).toString() }]);
  });

  it('sends what waits before the sockets close or the process exits', () => {
    const t = setup(() => [send(A, ack(1)), { kind: 'unbind' }, send(B, ack(2)), { kind: 'exit', code: 0 }]);
    t.interp.input({ kind: 'line', text: 'x' });
    expect(t.sent.map((s) => s.to)).toEqual([A, B]);
    expect(t.log).toEqual(['unbind', 'exit']);
  });

  it('lets a timer join the turn when a flush is still to come, and send at once otherwise', () => {
    const t = setup(() => [send(A, ack(1))]);
    t.interp.input({ kind: 'line', text: 'x' });
    t.interp.timeout(); // the delayed acks of the same turn
    expect(t.sent).toEqual([]);
    t.endTurn();
    expect(t.sent).toEqual([{ to: A, text: `${encode(ack(1))}\n${encode(ack(99))}` }]);
    t.interp.timeout(); // a timer of its own: no flush is coming
    expect(t.sent.at(-1)).toEqual({ to: A, text: encode(ack(99)).toString() });
  });

  it('hands a received pack to the core message by message, complaining of a bad line only', () => {
    const t = setup(() => []);
    const bytes = Buffer.from(`${encode(ack(1))}\n{"t":"ack","rid":"x"}\n${encode(ack(3))}`);
    t.interp.receive('manager', A, bytes);
    expect(t.got.map((i) => (i.kind === 'datagram' ? i.msg : null))).toEqual([ack(1), ack(3)]);
    expect(t.log).toEqual([expect.stringMatching(/^bad datagram from 127\.0\.0\.1:5001: line 2 of 3: bad ack: /)]);
    expect(t.interp.traffic).toMatchObject({ received: 1, receivedMessages: 2 });
    t.interp.receive('manager', A, pack([encode(ack(4)), encode(ack(5))]));
    expect(t.got.length).toBe(4);
  });
});
