// The event log (`--log FILE`): one JSON object per line, one file per process. It is written
// for the diagram tool (src/diagram), which merges the logs of several hosts whose clocks are not
// synchronised, so a line carries what is needed to match a receive to its send without clocks:
// both addresses and a hash of the message. docs/DIAGRAMS.md describes every field for people.
import { Type, type Static } from '@sinclair/typebox';

import { DEFAULT_LOG_MAX_MB, LOG_VERSION } from './version.js';

export { DEFAULT_LOG_MAX_MB, LOG_VERSION };

const Ms = Type.Number({ minimum: 0 });
const Text = Type.String({ maxLength: 4096 });
const Endpoint = Type.String({ maxLength: 64 });

/**
 * First line of a log, and again after a restart that appends to the same file: who writes,
 * and when its clock started. `t` (local ms, the clock every later line uses) and `wall` (ISO
 * wall-clock time) are read at the same moment, so a line's wall time is wall + (its t − t).
 */
export const Header = Type.Object({
  k: Type.Literal('header'),
  v: Type.Literal(LOG_VERSION),
  proc: Type.String({ minLength: 1, maxLength: 64 }),
  host: Type.String({ maxLength: 255 }),
  pid: Type.Integer({ minimum: 0 }),
  wall: Type.String({ maxLength: 40 }),
  t: Ms,
});

/** Fields of a message event: enough to match a receive with its send, and to label the arrow. */
const MessageFields = {
  t: Ms,
  /** Message type (`store`, `set-id`, …). */
  type: Type.String({ maxLength: 20 }),
  rid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Query id of `find-event`/`event-result`: one query's walks share it. */
  qid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** `cmd` and `res`: the console command they carry or answer. */
  cmd: Type.Optional(Type.String({ maxLength: 20 })),
  /** Sender and receiver as `ip:port`; for a peer, the socket used (m-port or p-port). */
  src: Endpoint,
  dst: Endpoint,
  /** FNV-1a hash (8 hex digits) of the message's encoding (lines.ts, hashBytes): same bytes, same hash on both sides. */
  h: Type.String({ minLength: 8, maxLength: 8 }),
  /** Bytes on the wire (all fragments). */
  len: Type.Integer({ minimum: 0 }),
  /** One-line description, as in the trace (protocol/describe.ts). */
  d: Text,
};

export const Send = Type.Object({
  k: Type.Literal('send'),
  ...MessageFields,
  /** Datagrams the message took, when it was cut into fragments (protocol/wire.ts). */
  dg: Type.Optional(Type.Integer({ minimum: 2 })),
  /** Retransmission number, from 2 on. */
  try: Type.Optional(Type.Integer({ minimum: 2 })),
});

export const Receive = Type.Object({
  k: Type.Literal('recv'),
  ...MessageFields,
  /** What the core made of it, when not simply applied: a retransmission, or ignored. */
  note: Type.Optional(Type.String({ maxLength: 20 })),
});

/** A console line typed by a person (a command), a line the process printed, a state change. */
export const Console = Type.Object({ k: Type.Literal('console'), t: Ms, text: Text });
export const Print = Type.Object({ k: Type.Literal('print'), t: Ms, text: Text });
export const State = Type.Object({ k: Type.Literal('state'), t: Ms, text: Text });
/** The core's timer fired (retransmissions, delayed acks and timeouts happen here). */
export const Timer = Type.Object({ k: Type.Literal('timer'), t: Ms });
/** The size bound was reached: the last line of a log, nothing after it was recorded. */
export const Full = Type.Object({ k: Type.Literal('full'), t: Ms, text: Text });

export const LogLine = Type.Union([Header, Send, Receive, Console, Print, State, Timer, Full]);

export type Header = Static<typeof Header>;
export type Send = Static<typeof Send>;
export type Receive = Static<typeof Receive>;
export type LogLine = Static<typeof LogLine>;
/** Every line but the header: the events of a process, in program order. */
export type LogEvent = Exclude<LogLine, Header>;
export type MessageEvent = Send | Receive;
