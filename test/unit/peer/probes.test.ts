// The peer's part in indirect probes (PROTOCOL §4.11): it pings a suspect when the manager asks
// (with its token), relays the suspect's pong to the manager as an `alive` with the nonce, answers
// anyone's ping with a pong (at most 50 a second), and ignores what nobody asked for.
import { describe, it, expect } from 'vitest';
import type { PeerEffect } from '../../../src/peer/core.js';
import type { Message } from '../../../src/protocol/messages.js';
import { MANAGER, TOK, feed, fromManager, registered } from './fixtures.js';

const NONCE = 'nonceCCCCCCCCCCCCCCCCC';
const SUSPECT = { ip: '127.0.0.1', port: 5301 };
const STRANGER = { ip: '127.0.0.1', port: 9999 };

const sends = (effects: PeerEffect[]) =>
  effects.filter((e): e is Extract<PeerEffect, { kind: 'send' }> => e.kind === 'send').map((e) => ({ to: e.to, msg: e.msg as Message }));
const onM = (core: ReturnType<typeof registered>, from: { ip: string; port: number }, msg: Record<string, unknown>, now = 0) =>
  feed(core, { kind: 'datagram', via: 'm', from, msg: { rid: 0, ...msg } as Message }, now);

describe('indirect probes at a peer', () => {
  it('ping-req from the manager: a ping to the suspect; its pong: an alive with the nonce to the manager', () => {
    const core = registered();
    const asked = sends(fromManager(core, { t: 'ping-req', nonce: NONCE, ip: SUSPECT.ip, port: SUSPECT.port }));
    expect(asked).toEqual([{ to: SUSPECT, msg: { t: 'ping', rid: 0, nonce: NONCE } }]);
    const relayed = sends(onM(core, SUSPECT, { t: 'pong', nonce: NONCE }));
    expect(relayed).toEqual([{ to: MANAGER, msg: { t: 'alive', rid: 0, tok: TOK, nonce: NONCE } }]);
    // Once only, and only from the suspect.
    expect(sends(onM(core, SUSPECT, { t: 'pong', nonce: NONCE }))).toEqual([]);
  });

  it('a pong nobody waits for, or from another address, relays nothing', () => {
    const core = registered();
    fromManager(core, { t: 'ping-req', nonce: NONCE, ip: SUSPECT.ip, port: SUSPECT.port });
    expect(sends(onM(core, STRANGER, { t: 'pong', nonce: NONCE }))).toEqual([]);
    expect(sends(onM(core, SUSPECT, { t: 'pong', nonce: 'otherDDDDDDDDDDDDDDDDD' }))).toEqual([]);
  });

  it('a ping-req without the token, or not from the manager, sends nothing', () => {
    const core = registered();
    expect(sends(onM(core, MANAGER, { t: 'ping-req', tok: 'wrongTokenAAAAAAAAAAAA', nonce: NONCE, ip: SUSPECT.ip, port: SUSPECT.port }))).toEqual([]);
    expect(sends(onM(core, STRANGER, { t: 'ping-req', tok: TOK, nonce: NONCE, ip: SUSPECT.ip, port: SUSPECT.port }))).toEqual([]);
  });

  it('a ping from anyone gets a pong with its nonce, at most 50 a second', () => {
    const core = registered();
    expect(sends(onM(core, STRANGER, { t: 'ping', nonce: NONCE }))).toEqual([{ to: STRANGER, msg: { t: 'pong', rid: 0, nonce: NONCE } }]);
    let pongs = 1;
    for (let i = 0; i < 200; i++) pongs += sends(onM(core, STRANGER, { t: 'ping', nonce: NONCE }, 10)).length;
    expect(pongs).toBe(50);
    expect(sends(onM(core, STRANGER, { t: 'ping', nonce: NONCE }, 1_500))).toHaveLength(1);
  });
});
