// Issue 9 item 3 with real processes: a datagram captured and sent again later changes nothing.
// The probe (a stranger's own socket) registers as a peer of its own, so it holds what an
// attacker could capture of it: its commands and its query. After a deregister and a new
// register, its old commands (old token, old request ids) are not answered and change nothing;
// a command with the new token but an old request id neither; a replayed query walks again
// (queries change nothing) and is answered only to the querier the manager vouched for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System, ask, parseCounts } from '../../src/scenario/system.js';
import { freePorts } from '../../src/scenario/driver.js';
import { DATA_DIR, DATA_LABEL, presentAndAbsent } from '../helpers/data.js';
import { Probe, managerStatus, peerStatus } from './udp.js';

const PEERS = ['peer1', 'peer2', 'peer3'];
const { present: [P1] } = presentAndAbsent();

describe(`replayed datagrams change nothing (real processes, ${DATA_LABEL})`, () => {
  let sys: System;
  let probe: Probe;
  let pport = 0;

  beforeAll(async () => {
    sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false });
    await sys.addPeers(PEERS);
    parseCounts(await ask(sys.peer('peer1'), 'setup-dht peer1 3 1996', /^dht-complete: SUCCESS/, 60_000));
    probe = await Probe.open();
    [pport] = await freePorts(1);
  }, 90_000);

  afterAll(async () => {
    probe?.close();
    sys?.killAll();
    if (sys) await Promise.all(sys.all().map((p) => p.exited));
  });

  /** Send a command; its answer, or null when none comes within `ms`. */
  async function command(body: Record<string, unknown>, ms = 2_000): Promise<Record<string, unknown> | null> {
    const answer = probe.next((r) => r.msg?.['t'] === 'res' && r.msg['rid'] === body['rid'], ms).then((r) => r.msg, () => null);
    await probe.send(sys.managerPort, body);
    return answer;
  }

  const registerArgs = (): string[] => ['mallory', '127.0.0.1', String(probe.port), String(pport)];

  it('old commands of a re-registered peer, and old request ids, get no answer and change nothing; a capability works only for the querier it names', async () => {
    const register = { t: 'cmd', rid: 10, cmd: 'register', args: registerArgs() };
    const first = await command(register);
    expect(first).toMatchObject({ code: 'SUCCESS' });
    const tok1 = first!['tok'] as string;
    expect(tok1).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // Without its token, even from its own address, nothing is answered.
    expect(await command({ t: 'cmd', rid: 11, cmd: 'deregister', args: ['mallory'] }, 500)).toBeNull();

    const queryDht = { t: 'cmd', rid: 12, cmd: 'query-dht', args: ['mallory'], tok: tok1 };
    const granted = await command(queryDht);
    expect(granted).toMatchObject({ code: 'SUCCESS', tok: tok1 });
    const member = granted!['peer'] as { port: number };
    const find = { t: 'find-event', rid: 13, qid: 4242, eventId: P1, sender: { name: 'mallory', ip: '127.0.0.1', port: probe.port }, remaining: null, idSeq: [], cap: granted!['cap'] };
    // The capability names the tuple (mallory, 127.0.0.1, pport): sent with the probe's own port
    // as the sender, it does not match, and no answer is reflected anywhere.
    await probe.send(member.port, find);
    await expect(probe.next((r) => r.msg?.['t'] === 'event-result' && r.msg['qid'] === 4242, 500)).rejects.toThrow();

    const deregister = { t: 'cmd', rid: 14, cmd: 'deregister', args: ['mallory'], tok: tok1 };
    expect(await command(deregister)).toMatchObject({ code: 'SUCCESS' });
    const second = await command({ t: 'cmd', rid: 15, cmd: 'register', args: registerArgs() });
    expect(second).toMatchObject({ code: 'SUCCESS' });
    const tok2 = second!['tok'] as string;
    expect(tok2).not.toBe(tok1);

    const before = await managerStatus(sys.manager);
    const statuses = await Promise.all(PEERS.map((n) => peerStatus(sys.peer(n))));
    // The old deregister and query-dht, replayed byte for byte: the old token is dead. (While the
    // manager's answer cache still holds an exact request, it repeats that old answer, which the
    // replayer has already seen, and executes nothing.)
    const oldAnswer = (await command(deregister, 500));
    expect(oldAnswer === null || oldAnswer['tok'] === tok1).toBe(true);
    const oldQuery = await command(queryDht, 500);
    expect(oldQuery === null || oldQuery['tok'] === tok1).toBe(true);
    // The new token with an old request id: a replay too.
    expect(await command({ ...deregister, rid: 13, tok: tok2 }, 500)).toBeNull();
    // The old register from the now registered address: its cached old answer; or, once that is
    // gone, it is taken as the Free peer started again on its own address and ports (PROTOCOL §3.2
    // "Register again"): a fresh token, sent only to that address — a replayer elsewhere never
    // sees it (the denial of service of §8.5). Never the current token tok2.
    const again = await command(register);
    expect(again === null || again['tok'] !== tok2).toBe(true);
    expect((await managerStatus(sys.manager)).lines).toEqual(before.lines);
    expect(await Promise.all(PEERS.map((n) => peerStatus(sys.peer(n))))).toEqual(statuses);
    expect(before.peers.has('mallory')).toBe(true);

    // With tok2 and a new id: SUCCESS if the replayed register changed nothing, no answer at all if
    // it registered the address again (tok2 is then dead, like any old token).
    const last = await command({ t: 'cmd', rid: 16, cmd: 'deregister', args: ['mallory'], tok: tok2 }, 1_000);
    expect(last === null || last['code'] === 'SUCCESS').toBe(true);
  }, 60_000);
});
