// One timer per process for a core's next deadline. The cores say when they next need
// onTimeout; re-arming only when that time changes keeps the shell cheap at high message rates.
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private armedFor: number | undefined;

  constructor(private readonly clock: () => number, private readonly fire: (now: number) => void) {}

  arm(deadline: number | undefined): void {
    if (deadline === this.armedFor && (deadline === undefined || this.timer !== null || this.immediate !== null)) return;
    this.cancel();
    this.armedFor = deadline;
    if (deadline === undefined) return;
    // +1: timers can fire a fraction of a millisecond before performance.now() reaches the
    // deadline, which would make the core do nothing and the timer spin.
    const wait = deadline - this.clock();
    const fire = (): void => {
      this.timer = null;
      this.immediate = null;
      this.armedFor = undefined;
      this.fire(this.clock());
    };
    // Due now (e.g. delayed acks): run after the I/O already received, not a millisecond later.
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
