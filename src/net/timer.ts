// One timer per process for a core's next deadline. The cores say when they next need
// onTimeout; re-arming only when that time changes keeps the shell cheap at high message rates.
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private armedFor: number | undefined;

  constructor(private readonly clock: () => number, private readonly fire: (now: number) => void) {}

  arm(deadline: number | undefined): void {
    if (deadline === this.armedFor && (deadline === undefined || this.timer !== null)) return;
    this.cancel();
    this.armedFor = deadline;
    if (deadline === undefined) return;
    // +1: timers can fire a fraction of a millisecond before performance.now() reaches the
    // deadline, which would make the core do nothing and the timer spin.
    const delay = Math.max(0, Math.ceil(deadline - this.clock()) + 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = undefined;
      this.fire(this.clock());
    }, delay);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = undefined;
  }
}
