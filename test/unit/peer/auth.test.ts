// Default mode (PROTOCOL §8) at the peer: a message that lacks what only the real sender has (the
// manager's token, the DHT's secret, the manager's vouching, the query capability) or that was
// taken before (its request id) is ignored with a line, not acknowledged, and changes nothing.
import { describe, it, expect } from 'vitest';
import type { Message } from '../../../src/protocol/messages.js';
import type { PeerCore, PeerEffect } from '../../../src/peer/core.js';
import { REPLAY_WINDOW } from '../../../src/reliable/replay.js';
import { queryCapability } from '../../../src/protocol/secrets.js';
import { MANAGER, P1, P2, P3, P4, SEC, TOK, feed, fixture, fromManager, fromPeer, prints, registered, snapshot, type } from './fixtures.js';

/** Each forged datagram a few seconds after the last, so no complaint line is rate-limited away. */
let clock = 0;
const tick = (): number => (clock += 5_000);

const ignored = (effects: PeerEffect[]): boolean => effects.some((e) => e.kind === 'note' && e.verdict === 'ignored');

/** After the effects of `act`, nothing changed, nothing was sent, nothing will be acknowledged. */
function refused(core: PeerCore, act: () => PeerEffect[], why: RegExp): void {
  core.onTimeout(clock);
  const before = snapshot(core);
  const effects = act();
  expect(ignored(effects), prints(effects).join(' | ')).toBe(true);
  expect(prints(effects).join('\n')).toMatch(why);
  expect(effects.filter((e) => e.kind === 'send')).toEqual([]);
  expect(snapshot(core)).toBe(before);
  expect(core.onTimeout(clock).filter((e) => e.kind === 'send' && e.msg.t === 'ack'), 'not acknowledged').toEqual([]);
}

const raw = (core: PeerCore, via: 'm' | 'p', from: { ip: string; port: number }, msg: object): PeerEffect[] =>
  feed(core, { kind: 'datagram', via, from, msg: msg as Message }, tick());

describe('default mode at the peer', () => {
  it('a command carries the token register gave', () => {
    const core = registered();
    const effects = type(core, 'deregister peer2');
    const cmd = effects.find((e) => e.kind === 'send' && e.msg.t === 'cmd');
    expect(cmd && cmd.kind === 'send' && cmd.msg.t === 'cmd' && cmd.msg.tok).toBe(TOK);
  });

  it('a response without this peer\'s token is ignored, even with the right rid', () => {
    const core = registered();
    const sent = type(core, 'deregister peer2');
    const cmd = sent.find((e) => e.kind === 'send')!;
    const rid = cmd.kind === 'send' ? cmd.msg.rid : 0;
    for (const tok of [undefined, 'someoneElsesTokenAAAAA']) {
      const effects = raw(core, 'm', MANAGER, { t: 'res', rid, cmd: 'deregister', code: 'SUCCESS', text: 'ok', ...(tok ? { tok } : {}) });
      expect(prints(effects).join()).toMatch(/without this peer's token/);
      expect(core.me, 'still registered').not.toBeNull();
    }
  });

  it('dissolved, dht-notice and join-notice without the token are ignored and not acknowledged', () => {
    const fx = fixture('member');
    for (const msg of [{ t: 'dissolved', dht: 1, text: 'forged' }, { t: 'dht-notice', dht: 9, leader: P4, sec: SEC }, { t: 'join-notice', dht: 1, joiner: P4 }]) {
      refused(fx.core, () => fromManager(fx.core, { ...msg, tok: 'forgedTokenAAAAAAAAAAA' }, tick()), /without this peer's token/);
      refused(fx.core, () => fromManager(fx.core, { ...msg, tok: undefined }, tick()), /without this peer's token/);
    }
    expect(fx.core.ring).not.toBeNull();
  });

  it('a replayed dissolved (an old rid from the manager) is refused', () => {
    const fx = fixture('member');
    feed(fx.core, { kind: 'datagram', via: 'm', from: MANAGER, msg: { t: 'dht-notice', rid: 10 + REPLAY_WINDOW * 2, dht: 5, leader: P4, sec: SEC, tok: TOK } as Message }, tick());
    refused(fx.core, () => raw(fx.core, 'm', MANAGER, { t: 'dissolved', rid: 3, dht: 1, text: 'old', tok: TOK }), /old request id/);
    expect(fx.core.ring).not.toBeNull();
  });

  it.each(['store', 'teardown', 'store-end', 'reset-id', 'set-id'])('a ring member ignores %s with a wrong or missing secret', (t) => {
    const fx = fixture('member');
    const bodies: Record<string, object> = {
      store: { t, epoch: fx.epoch, recs: ['123,x'] },
      teardown: { t, origin: P1.name, dissolve: true, epoch: fx.epoch },
      'store-end': { t, epoch: fx.epoch, counts: [] },
      'reset-id': { t, origin: P1, id: 1, n: 2, peers: [P1, P2], year: 1996, s: 7, epoch: 99, dht: 1 },
      'set-id': { t, id: 1, n: 2, peers: [P1, P2], year: 1996, s: 7, epoch: 98, dht: 1 },
    };
    for (const sec of ['wrongSecretAAAAAAAAAAA', undefined]) {
      refused(fx.core, () => fromPeer(fx.core, P1, { ...bodies[t], sec } as never, tick()), /without the secret/);
    }
  });

  it('a ring message replayed below the sender\'s window is refused; within it, it is a duplicate (acknowledged, not applied)', () => {
    const fx = fixture('member');
    const store = (rid: number) => raw(fx.core, 'p', P1, { t: 'store', rid, epoch: fx.epoch, sec: SEC, recs: [] });
    expect(ignored(store(1_000_000))).toBe(false);
    expect(store(1_000_000).some((e) => e.kind === 'note' && e.verdict === 'duplicate')).toBe(true);
    expect(ignored(store(1_000_000 + REPLAY_WINDOW + 1))).toBe(false);
    refused(fx.core, () => store(1_000_000), /old request id/);
  });

  it('a Free peer takes set-id only for a DHT the manager announced, with its leader and secret', () => {
    const core = registered();
    const setId = { t: 'set-id', id: 1, n: 3, peers: [P1, P2, P3], year: 1996, s: 7, epoch: 11, dht: 1 } as const;
    refused(core, () => fromPeer(core, P1, setId, tick()), /without the secret/); // nothing announced: no secret expected
    fromManager(core, { t: 'dht-notice', dht: 1, leader: P1, sec: SEC }, tick());
    refused(core, () => fromPeer(core, P1, { ...setId, sec: 'anotherSecretAAAAAAAAA' }, tick()), /without the secret/);
    refused(core, () => fromPeer(core, P1, { ...setId, dht: 2 }, tick()), /did not announce/);
    refused(core, () => fromPeer(core, P3, { ...setId, peers: [P3, P2, P1] }, tick()), /did not announce/);
    expect(ignored(fromPeer(core, P1, setId, tick()))).toBe(false);
    expect(core.ring?.sec).toBe(SEC);
  });

  it('a leader takes join only from a joiner the manager vouched for, and only once', () => {
    const fx = fixture('leader'); // vouched for peer4
    const P5 = { name: 'peer5', ip: '127.0.0.1', port: 5502 };
    refused(fx.core, () => fromPeer(fx.core, P5, { t: 'join', joiner: P5 }, tick()), /did not vouch/);
    refused(fx.core, () => fromPeer(fx.core, P5, { t: 'join', joiner: P4 }, tick()), /did not vouch/); // from another address
    expect(ignored(fromPeer(fx.core, P4, { t: 'join', joiner: P4 }, tick()))).toBe(false);
  });

  it('a query\'s first hop needs the manager\'s capability for its sender; later hops the secret', () => {
    const fx = fixture('member');
    const first = { t: 'find-event', qid: 5, eventId: 42, sender: P4, remaining: null, idSeq: [] } as const;
    refused(fx.core, () => fromPeer(fx.core, P4, { ...first, cap: queryCapability(SEC, P3) }, tick()), /capability/);
    refused(fx.core, () => fromPeer(fx.core, P4, { ...first, cap: queryCapability('wrongSecretAAAAAAAAAAA', P4) }, tick()), /capability/);
    refused(fx.core, () => fromPeer(fx.core, P1, { t: 'find-event', qid: 5, eventId: 42, sender: P4, remaining: [0], idSeq: [1], sec: 'wrongSecretAAAAAAAAAAA' }, tick()), /without the secret/);
    const answered = fromPeer(fx.core, P4, first, tick());
    expect(ignored(answered)).toBe(false);
    expect(answered.some((e) => e.kind === 'send' && (e.msg.t === 'event-result' || e.msg.t === 'find-event'))).toBe(true);
  });
});
