// The boundary between the pure cores (manager/, peer/) and the I/O around them (net/ shells,
// sim/ world). A core takes an input and returns a list of these effects; one interpreter
// (runtime/interpreter.ts) carries them out, with the I/O plugged in by a shell or the simulator.
import type { LineDataset } from '../data/record.js';
import type { Message } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';

/** Which of a peer's two sockets: m-port (manager traffic) or p-port (peer traffic). */
export type Via = 'm' | 'p';

/** What the core made of the datagram it was handed: drives the receive trace line. */
export type Verdict = 'duplicate' | 'ignored';

export type Effect =
  /** Send a message; `via` picks the peer's socket (the manager has one and leaves it out). */
  | { kind: 'send'; via?: Via; to: Addr; msg: Message; attempt: number }
  | { kind: 'print'; text: string }
  /** About the datagram being handled: a retransmission (acked, not applied) or ignored (a complaint). */
  | { kind: 'note'; verdict: Verdict }
  /** Bind the peer's two sockets; `name` is the peer's, for its event log. */
  | { kind: 'bind'; name: string; ip: string; mport: number; pport: number }
  | { kind: 'unbind' }
  /** Read the year's data file; the answer comes back as a `loaded` input. Never inside a handler. */
  | { kind: 'load'; year: number }
  /** `status` was typed: the shell adds what only the process knows (RSS, CPU, traffic). */
  | { kind: 'process-status' }
  /**
   * The manager's state changed: make this change record (plain JSON, manager/snapshot.ts) durable
   * before any later effect (net/journal.ts). The core puts it before the answer's `send`, so an
   * answer never reports a change a crash could lose.
   */
  | { kind: 'persist'; change: unknown }
  | { kind: 'exit'; code: number };

/** The answer to a `load` effect: the year's records, or a one-line explanation. */
export type Loaded = { kind: 'loaded'; year: number; data: LineDataset | string };
