// What the interpreter tells an observer of a process: every message sent and received, console
// lines, prints, timers and state changes. The event log (eventlog/writer.ts, `--log`) and the
// manager's live view (live/) are observers; the cores never know they exist.
import type { Message } from '../protocol/messages.js';
import type { Addr } from '../reliable/index.js';
import type { Verdict } from './effects.js';

export interface Observer {
  /** A message handed to the network as these datagrams (several when fragmented). */
  send(now: number, to: Addr, msg: Message, datagrams: readonly Uint8Array[], attempt: number, via?: string): void;
  /** A message decoded (the datagram that completed it), before the core's effects are carried out. */
  receive(now: number, from: Addr, msg: Message, bytes: Uint8Array, note?: Verdict, via?: string): void;
  console(now: number, line: string): void;
  print(now: number, text: string): void;
  state(now: number, what: string): void;
  timer(now: number): void;
  /** The process's sockets are bound (a peer's `m` and `p`); `name` is its name, once known. */
  bound(now: number, sockets: Record<string, Addr>, name?: string): void;
  /** The process is about to exit: write out what is kept (the event log closes its file). */
  close?(): Promise<void> | void;
}

/** One observer that tells each of several (the event log and the live view), in order; undefined for none. */
export function fanOut(observers: readonly (Observer | undefined)[]): Observer | undefined {
  const all = observers.filter((o): o is Observer => o !== undefined);
  if (all.length <= 1) return all[0];
  return {
    send: (...a) => { for (const o of all) o.send(...a); },
    receive: (...a) => { for (const o of all) o.receive(...a); },
    console: (...a) => { for (const o of all) o.console(...a); },
    print: (...a) => { for (const o of all) o.print(...a); },
    state: (...a) => { for (const o of all) o.state(...a); },
    timer: (...a) => { for (const o of all) o.timer(...a); },
    bound: (...a) => { for (const o of all) o.bound(...a); },
  };
}
