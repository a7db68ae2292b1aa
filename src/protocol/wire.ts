// Messages ↔ datagrams. Almost every message fits one datagram; the few that list a whole ring
// (setup-dht's answer, set-id, reset-id, join-dht's answer) outgrow the payload limit once a ring
// has more than ~25 peers. Those are cut into `frag` datagrams and put back together here, below
// the cores, so the cores and the reliable layer see whole messages only. A lost fragment loses
// the message, and the sender's retransmission sends every fragment again.
import { decode, encode, HARD_MAX_PAYLOAD, type Decoded } from './codec.js';
import type { Message } from './messages.js';
import { addrKey, type Addr } from '../reliable/outbox.js';

/** Bound on a reassembled message, and on the partial messages kept per receiver. */
export const MAX_FRAGMENTS = 64;
const MAX_PARTIALS = 256;
/** Bytes of a frag datagram besides its data: {"t":"frag","f":…,"i":…,"of":…,"d":"…"}. */
const FRAG_ENVELOPE = 70;

export type Received = Decoded | { ok: 'partial' };

export class Wire {
  private nextFrag = 1;
  private readonly partials = new Map<string, { parts: (string | undefined)[]; have: number }>();

  constructor(private readonly maxPayload: number) {}

  /** The datagrams that carry one message. */
  datagrams(msg: Message): Buffer[] {
    const bytes = encode(msg);
    if (bytes.length <= this.maxPayload) return [bytes];
    const chunk = Math.floor(((this.maxPayload - FRAG_ENVELOPE) * 3) / 4 / 3) * 3;
    const of = Math.ceil(bytes.length / chunk);
    if (of > MAX_FRAGMENTS) throw new Error(`a ${msg.t} message of ${bytes.length} bytes needs ${of} fragments (limit ${MAX_FRAGMENTS})`);
    const f = this.nextFrag++;
    const out: Buffer[] = [];
    for (let i = 0; i < of; i++) {
      const d = bytes.subarray(i * chunk, (i + 1) * chunk).toString('base64');
      out.push(Buffer.from(JSON.stringify({ t: 'frag', f, i, of, d })));
    }
    return out;
  }

  /** One received datagram: a whole message, a rejection with its reason, or a fragment kept for later. */
  receive(from: Addr, bytes: Uint8Array): Received {
    // Accept up to the hard ceiling whatever our own sending limit: peers may be configured differently.
    const first = decode(bytes, HARD_MAX_PAYLOAD);
    if (!first.ok) return first;
    if (first.msg.t !== 'frag') return { ok: true, msg: first.msg };
    const { f, i, of, d } = first.msg;
    if (i >= of) return { ok: false, reason: `bad frag: part ${i} of ${of}` };
    const key = `${addrKey(from)}#${f}`;
    let partial = this.partials.get(key);
    if (!partial) {
      if (this.partials.size >= MAX_PARTIALS) this.partials.delete(this.partials.keys().next().value as string);
      partial = { parts: new Array<string | undefined>(of), have: 0 };
      this.partials.set(key, partial);
    }
    if (partial.parts.length !== of) return { ok: false, reason: 'bad frag: part count changed' };
    if (partial.parts[i] === undefined) partial.have += 1;
    partial.parts[i] = d;
    if (partial.have < of) return { ok: 'partial' };
    this.partials.delete(key);
    const whole = Buffer.concat(partial.parts.map((p) => Buffer.from(p!, 'base64')));
    const msg = decode(whole, MAX_FRAGMENTS * HARD_MAX_PAYLOAD);
    if (!msg.ok) return msg;
    if (msg.msg.t === 'frag') return { ok: false, reason: 'bad frag: nested fragments' };
    return { ok: true, msg: msg.msg };
  }
}
