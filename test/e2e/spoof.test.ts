// Forged source addresses (issue 9 item 1): an off-path attacker who can put any source address on
// a datagram (a raw socket, test/e2e/spoof.py) sends a command to the manager from a registered
// peer's m-port, a dissolved to a member from the manager's address, and ring messages to a
// member from another member's p-port. Without the peer's token or the DHT's secret, every one is
// refused, unanswered and unacknowledged, and nothing changes. Root only (raw sockets).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System, ask, parseCounts } from '../../src/scenario/system.js';
import { DATA_DIR, DATA_LABEL } from '../helpers/data.js';
import { managerStatus, peerStatus, type PeerPorts } from './udp.js';

const SCRIPT = fileURLToPath(new URL('./spoof.py', import.meta.url)).replace('/dist/', '/');
const GUESS = 'guessedSecretAAAAAAAAA';

function canSpoof(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('python3', ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).close()']);
    return null;
  } catch {
    return 'python3 cannot open a raw socket';
  }
}
const why = canSpoof();
if (why) process.stdout.write(`spoof: forged source addresses not tested (${why})\n`);

function spoof(from: { ip: string; port: number }, toPort: number, msg: object): void {
  execFileSync('python3', [SCRIPT, from.ip, String(from.port), '127.0.0.1', String(toPort), Buffer.from(JSON.stringify(msg)).toString('hex')]);
}

describe.skipIf(why !== null)(`forged source addresses (raw sockets, real processes, ${DATA_LABEL})`, () => {
  let sys: System;
  let ports: Map<string, PeerPorts>;
  let ring: string[];
  let free: string;

  beforeAll(async () => {
    sys = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false });
    await sys.addPeers(['peer1', 'peer2', 'peer3', 'peer4']);
    ring = parseCounts(await ask(sys.peer('peer1'), 'setup-dht peer1 3 1996', /^dht-complete: SUCCESS/, 60_000)).map((n) => n.name);
    free = ['peer1', 'peer2', 'peer3', 'peer4'].find((n) => !ring.includes(n))!;
    ports = (await managerStatus(sys.manager)).peers;
  }, 90_000);

  afterAll(async () => {
    sys?.killAll();
    if (sys) await Promise.all(sys.all().map((p) => p.exited));
  });

  it('commands from a peer\'s m-port without its token, a dissolved from the manager\'s address and ring messages from a member\'s p-port are all refused', async () => {
    const before = (await managerStatus(sys.manager)).lines;
    const statuses = await Promise.all(['peer1', 'peer2', 'peer3', 'peer4'].map((n) => peerStatus(sys.peer(n))));
    const m = (name: string) => ({ ip: '127.0.0.1', port: ports.get(name)!.mport });
    const p = (name: string) => ({ ip: '127.0.0.1', port: ports.get(name)!.pport });

    // To the manager, from the m-ports of the peers they name.
    const refusedAtManager = sys.manager.watch(/BAD_TOKEN/, 10_000);
    spoof(m(free), sys.managerPort, { t: 'cmd', rid: 2 ** 47, cmd: 'deregister', args: [free] });
    await refusedAtManager;
    spoof(m(ring[1]!), sys.managerPort, { t: 'cmd', rid: 2 ** 47, cmd: 'leave-dht', args: [ring[1]], tok: GUESS });
    spoof(m(ring[0]!), sys.managerPort, { t: 'cmd', rid: 2 ** 47, cmd: 'teardown-dht', args: [ring[0]], tok: GUESS });
    spoof(m(free), sys.managerPort, { t: 'cmd', rid: 2 ** 47 + 1, cmd: 'join-dht', args: [free], tok: GUESS });

    // To a member, from the manager's address and from another member's p-port.
    const member = sys.peer(ring[1]!);
    const dissolved = member.watch(/^ignored dissolved from .*without this peer's token/, 10_000);
    spoof({ ip: '127.0.0.1', port: sys.managerPort }, ports.get(ring[1]!)!.mport, { t: 'dissolved', rid: 2 ** 47, dht: 1, text: 'forged', tok: GUESS });
    await dissolved;
    const teardown = member.watch(/^ignored teardown from .*without the secret/, 10_000);
    spoof(p(ring[0]!), ports.get(ring[1]!)!.pport, { t: 'teardown', rid: 2 ** 47, sec: GUESS, origin: ring[0], dissolve: true, epoch: 0 });
    await teardown;
    const store = sys.peer(ring[2]!).watch(/^ignored store from .*without the secret/, 10_000);
    spoof(p(ring[1]!), ports.get(ring[2]!)!.pport, { t: 'store', rid: 2 ** 47, sec: GUESS, epoch: 0, to: 1, recs: '1,forged' });
    await store;
    const setId = sys.peer(free).watch(/^ignored set-id from .*without the secret/, 10_000);
    spoof(p(ring[0]!), ports.get(free)!.pport, { t: 'set-id', rid: 2 ** 47, sec: GUESS, id: 1, n: 2, peers: [{ name: ring[0], ...p(ring[0]!) }, { name: free, ...p(free) }], year: 1996, s: 7, epoch: 1, dht: 2 });
    await setId;

    expect((await managerStatus(sys.manager)).lines).toEqual(before);
    expect(await Promise.all(['peer1', 'peer2', 'peer3', 'peer4'].map((n) => peerStatus(sys.peer(n))))).toEqual(statuses);
  }, 60_000);
});
