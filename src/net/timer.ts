// One timer per process for a core's next deadline. The cores say when they next need
// onTimeout. A timer already set to fire no later than the new deadline is kept: firing early
// costs one call that finds nothing due (and re-arms), while re-arming on every datagram (the
// deadline moves with each send and ack) costs a clearTimeout and a setTimeout each time.
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private armedFor: number | undefined;

  constructor(private readonly clock: () => number, private readonly fire: (now: number) => void) {}

  arm(deadline: number | undefined): void {
    if (deadline === undefined) return;
    if (this.armedFor !== undefined && this.armedFor <= deadline) return;
    this.cancel();
    this.armedFor = deadline;
    const wait = deadline - this.clock();
    const fire = (): void => {
      this.timer = null;
      this.immediate = null;
      this.armedFor = undefined;
      this.fire(this.clock());
    };
    // Due now (e.g. delayed acks): run after the I/O already received, not a millisecond later.
    // +1 on timers: they can fire a fraction of a millisecond before the clock reaches the deadline.
    if (wait <= 0) this.immediate = setImmediate(fire);
    else this.timer = setTimeout(fire, Math.ceil(wait) + 1);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.armedFor = undefined;
  }
}
