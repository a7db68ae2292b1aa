// One-line descriptions of messages for the trace: the type and its key fields, never the bulk.
// Every numbered message shows its rid, so that `--trace full` can match each `ack rid N` to the
// datagram it acknowledges.
import type { Message } from './messages.js';
import { frameCount } from '../data/line.js';

export function describe(msg: Message): string {
  if (msg.t === 'ack') return msg.more ? `ack rids ${msg.rid}, ${msg.more.join(', ')}` : `ack rid ${msg.rid}`;
  return `${body(msg)} (rid ${msg.rid})`;
}

function body(msg: Exclude<Message, { t: 'ack' }>): string {
  switch (msg.t) {
    case 'cmd': return `${msg.cmd} ${msg.args.join(' ')}`.trimEnd();
    case 'res': return `response to ${msg.cmd}: ${msg.code}${msg.reason ? ` ${msg.reason}` : ''}` +
      (msg.peers ? ` peers=[${msg.peers.map((p) => `${p.name} ${p.ip}:${p.port}`).join(', ')}]` : '') +
      (msg.peer ? ` peer=${msg.peer.name} ${msg.peer.ip}:${msg.peer.port}` : '');
    case 'dissolved': return `dissolved: ${msg.text}`;
    case 'dht-notice': return `dht-notice dht=${msg.dht} leader=${msg.leader.name} ${msg.leader.ip}:${msg.leader.port}`;
    case 'join-notice': return `join-notice dht=${msg.dht} joiner=${msg.joiner.name} ${msg.joiner.ip}:${msg.joiner.port}`;
    case 'repair': return `repair dht=${msg.dht} dead=${msg.dead}`;
    case 'set-id': return `set-id id=${msg.id} n=${msg.n} year=${msg.year} s=${msg.s}${msg.r !== undefined ? ` r=${msg.r}` : ''} ring=[${msg.peers.map((p) => p.name).join(', ')}]`;
    case 'store': return `store ${'z' in msg ? msg.n : frameCount(msg.recs)} records for node ${msg.to}${msg.of !== undefined ? ` (copies of node ${msg.of}'s)` : ''}` +
      ('z' in msg ? ` (compressed: ${msg.recs.length} bytes for ${msg.z})` : '');
    case 'store-end': return `store-end counts=[${msg.counts.join(', ')}]${msg.replicas ? ` replicas=[${msg.replicas.join(', ')}]` : ''}`;
    case 'store-failed': return `store-failed: ${msg.text}`;
    case 'teardown': return `teardown origin=${msg.origin}${msg.dissolve ? ' (dissolve)' : ''}`;
    case 'reset-id':
      // The renumbering walk hands id = n back to its origin: every member has its new id, none
      // has n. Printed as `id=n n=n` it would read like an off-by-one.
      return msg.id === msg.n
        ? `reset-id back at origin ${msg.origin.name}: ${msg.n} members renumbered ring=[${msg.peers.map((p) => p.name).join(', ')}] (renumbering done)`
        : `reset-id id=${msg.id} n=${msg.n} origin=${msg.origin.name} ring=[${msg.peers.map((p) => p.name).join(', ')}]`;
    case 'rebuild-dht': return `rebuild-dht year=${msg.year} for ${msg.origin.name}`;
    case 'rebuild-done': return `rebuild-done leader=${msg.leader} ${msg.ok ? `counts=[${msg.counts.join(', ')}]` : `FAILED: ${msg.text}`}`;
    case 'join': return `join ${msg.joiner.name} ${msg.joiner.ip}:${msg.joiner.port}`;
    case 'find-event': return `find-event ${msg.eventId} from ${msg.sender.name} id-seq=[${msg.idSeq.join(', ')}]` +
      (msg.remaining ? ` remaining=[${msg.remaining.join(', ')}]` : ' (first hop)') + (msg.ack ? ' (acked per hop)' : '') +
      (msg.rep !== undefined ? ` (asks the copy of node ${msg.rep}'s records)` : '');
    case 'alive': return msg.nonce === undefined ? 'alive' : 'alive (a pinged peer answered)';
    case 'probe': return 'probe';
    case 'ping-req': return `ping-req ${msg.ip}:${msg.port}`;
    case 'ping': return 'ping';
    case 'pong': return 'pong';
    case 'event-result': return `event-result ${msg.eventId} ${msg.busy !== undefined ? `BUSY (${msg.busy})` : msg.found ? 'FOUND' : 'NOT FOUND'} id-seq=[${msg.idSeq.join(', ')}]` +
      (msg.of !== undefined ? ` (from the copy of node ${msg.of}'s records)` : '');
  }
}

/** Bulk traffic that the summary trace leaves to the cores' per-batch summary lines. */
export function isBulk(msg: Message): boolean {
  return msg.t === 'store' || msg.t === 'ack' || msg.t === 'alive' || msg.t === 'probe' || msg.t === 'ping-req' || msg.t === 'ping' || msg.t === 'pong';
}
