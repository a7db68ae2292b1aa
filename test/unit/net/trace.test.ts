// The trace line a person reads (SPEC §5): who, where, what, and enough to match an ack to its datagram.
import { describe, expect, it } from 'vitest';
import { traceLine } from '../../../src/net/trace.js';
import type { Message } from '../../../src/protocol/messages.js';

/** A DHT secret or token as the messages carry them (the trace never shows them). */
const SEC = 'traceTestSecretAAAAAAA';

const addr = { ip: '127.0.0.1', port: 31004 };
const tuple = (name: string, port: number) => ({ name, ip: '127.0.0.1', port });
const ring = [tuple('peer1', 31002), tuple('peer2', 31004), tuple('peer3', 31006)];

describe('traceLine', () => {
  it('names the sender, or says stranger for an address no peer registered', () => {
    const ack: Message = { t: 'ack', rid: 7 };
    expect(traceLine('received', 'peer2', addr, ack)).toBe('← peer2 127.0.0.1:31004 ack rid 7');
    expect(traceLine('received', undefined, addr, ack)).toBe('← stranger 127.0.0.1:31004 ack rid 7');
    expect(traceLine('sent', undefined, addr, ack)).not.toContain('?');
  });

  it('shows the rid of every ring message, so that `ack rid N` can be matched to it', () => {
    const messages: Message[] = [
      { t: 'set-id', rid: 11, sec: SEC, id: 1, n: 3, peers: ring, year: 1950, s: 449, epoch: 1, dht: 1 },
      { t: 'store-end', rid: 12, sec: SEC, epoch: 1, counts: [72, 75] },
      { t: 'store-failed', rid: 13, sec: SEC, epoch: 1, text: 'peer3 did not acknowledge' },
      { t: 'teardown', rid: 14, sec: SEC, origin: 'peer1', dissolve: true, epoch: 1 },
      { t: 'reset-id', rid: 15, sec: SEC, origin: ring[0]!, id: 1, n: 3, peers: ring, year: 1950, s: 449, epoch: 2, dht: 1 },
      { t: 'rebuild-dht', rid: 16, sec: SEC, year: 1950, origin: ring[2]! },
      { t: 'rebuild-done', rid: 17, sec: SEC, leader: 'peer1', ok: true, counts: [112, 111], text: 'done' },
      { t: 'join', rid: 18, sec: SEC, joiner: tuple('peer4', 31008) },
      { t: 'dissolved', rid: 19, dht: 1, text: 'the manager gave up', tok: SEC },
      { t: 'find-event', rid: 20, qid: 1, eventId: 5536849, sender: tuple('peer6', 31012), remaining: null, idSeq: [] },
      { t: 'event-result', rid: 21, qid: 1, eventId: 5536849, found: false, idSeq: [3, 1] } as Message,
      { t: 'store', rid: 22, sec: SEC, epoch: 1, to: 1, recs: '5536849,ALABAMA' },
      { t: 'cmd', rid: 23, cmd: 'register', args: ['peer1', '127.0.0.1', '31001', '31002'] },
    ];
    for (const msg of messages) {
      const line = traceLine('sent', 'peer2', addr, msg);
      expect(line, msg.t).toMatch(new RegExp(`^→ peer2 127\\.0\\.0\\.1:31004 ${msg.t === 'cmd' ? 'register' : msg.t}\\b.* \\(rid ${msg.rid}\\)$`));
      expect(line.match(/\(rid \d+\)/g), msg.t).toHaveLength(1);
    }
  });

  it('describes the reset-id that comes back to its origin (id = n) as the end of renumbering', () => {
    const back: Message = { t: 'reset-id', rid: 30, sec: SEC, origin: ring[0]!, id: 2, n: 2, peers: ring.slice(0, 2), year: 1950, s: 449, epoch: 2, dht: 1 };
    const line = traceLine('received', 'peer2', addr, back);
    expect(line).toBe('← peer2 127.0.0.1:31004 reset-id back at origin peer1: 2 members renumbered ring=[peer1, peer2] (renumbering done) (rid 30)');
    expect(line).not.toMatch(/id=2 n=2/);
    const middle = traceLine('received', 'peer2', addr, { ...back, id: 1 } as Message);
    expect(middle).toMatch(/ reset-id id=1 n=2 origin=peer1 ring=\[peer1, peer2\] \(rid 30\)$/);
  });

  it('marks a received duplicate or ignored datagram, after the retry count', () => {
    const msg: Message = { t: 'teardown', rid: 40, sec: SEC, origin: 'peer1', dissolve: false, epoch: 1 };
    expect(traceLine('received', 'peer1', addr, msg, 1, 'duplicate')).toBe('← peer1 127.0.0.1:31004 teardown origin=peer1 (rid 40) (duplicate)');
    expect(traceLine('received', undefined, addr, msg, 1, 'ignored')).toBe('← stranger 127.0.0.1:31004 teardown origin=peer1 (rid 40) (ignored)');
    expect(traceLine('sent', 'peer1', addr, msg, 3)).toBe('→ peer1 127.0.0.1:31004 teardown origin=peer1 (rid 40) [try 3]');
    expect(traceLine('received', 'peer1', addr, msg)).not.toMatch(/\((duplicate|ignored)\)/);
  });
});
