// The table of accepted messages (src/peer/accepts.ts) is what the peer does: for every state and
// every peer message type, a peer in that state takes the message or ignores it with the table's
// reason and stays as it was. docs/PROTOCOL.md shows the same table.
import { describe, it, expect } from 'vitest';
import { ACCEPTS, PEER_STATES, refusal, type PeerMessageType } from '../../../src/peer/accepts.js';
import { fixture, fromPeer, prints, sample, snapshot } from './fixtures.js';

const TYPES = Object.keys(ACCEPTS) as PeerMessageType[];
const cases = PEER_STATES.flatMap((state) => TYPES.map((t) => [state, t] as const));

describe('peer: which message each state takes', () => {
  it.each(PEER_STATES)('a fixture peer is in state %s', (state) => {
    expect(fixture(state).core.describe().split(' ')[0]).toBe(state);
  });

  it.each(cases)('in state %s, %s is as the table says', (state, t) => {
    const fx = fixture(state);
    fx.core.onTimeout(0); // acks of the fixture's own steps go out now
    const before = snapshot(fx.core);
    const { from, msg } = sample(t, fx);
    const effects = fromPeer(fx.core, from, msg);
    const ignored = effects.some((e) => e.kind === 'note' && e.verdict === 'ignored');
    const why = refusal(t, state);
    if (why === null) {
      expect(prints(effects).filter((l) => l.startsWith('ignored ')), `${t} in ${state} got a complaint`).toEqual([]);
      // An event-result is taken in these states, but with no query of this peer waiting for it
      // (as here) it is dropped, its trace line rate-limited: a flood of them cannot fill a console.
      if (t !== 'event-result') expect(ignored, `${t} in ${state} was ignored: ${prints(effects).join(' | ')}`).toBe(false);
      return;
    }
    expect(ignored).toBe(true);
    expect(prints(effects)).toEqual([`ignored ${t} from ${from.ip}:${from.port}: ${why}`]);
    expect(effects.filter((e) => e.kind === 'send' || e.kind === 'load')).toEqual([]);
    expect(snapshot(fx.core)).toBe(before);
    // Not acknowledged: the sender learns nothing and gives up.
    expect(fx.core.onTimeout(0).filter((e) => e.kind === 'send')).toEqual([]);
  });
});
// docs/PROTOCOL.md §1.3 shows this table: test/unit/docs-tables.test.ts checks it (src/docs/tables.ts).
