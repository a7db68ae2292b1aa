// The peer's side of failure detection (PROTOCOL §4.11): once registered with a manager that
// asked for it (`hb` in the register answer), send `alive` from the m-port every `hb` ms, and at
// once in answer to the manager's `probe`. Unacknowledged: a lost one is replaced by the next.
export class Heartbeat {
  private everyMs: number | null = null;
  private nextAt: number | undefined;

  start(now: number, everyMs: number): void {
    this.everyMs = everyMs;
    this.nextAt = now + everyMs;
  }

  stop(): void {
    this.everyMs = null;
    this.nextAt = undefined;
  }

  get running(): boolean {
    return this.everyMs !== null;
  }

  /** True when a heartbeat is due now (and schedules the next one). */
  due(now: number): boolean {
    if (this.everyMs === null || this.nextAt === undefined || now < this.nextAt) return false;
    this.nextAt += this.everyMs;
    // After a long pause (a stopped process) the next beat is one period from now, not a burst.
    if (this.nextAt <= now) this.nextAt = now + this.everyMs;
    return true;
  }

  nextDeadline(): number | undefined {
    return this.nextAt;
  }
}
