// Console input split into lines, each bounded in length. Node's readline keeps a line without a
// newline in memory however long it grows: `dht-peer … < /dev/zero` reached 180 MB in two seconds.
// Here a line longer than MAX_LINE_CHARS is dropped (with one line saying so) and the rest of it
// skipped up to the next newline, so no input can bloat the process, and the lines after it run.

/** Longest console line kept: a command is a few dozen characters; a pasted record line a few KB. */
export const MAX_LINE_CHARS = 65_536;

export class LineSplitter {
  private rest = '';
  private skipping = false;

  constructor(private readonly onLine: (text: string) => void, private readonly onTooLong: (chars: number) => void, private readonly max = MAX_LINE_CHARS) {}

  /** A chunk of input text: every complete line goes to onLine, in order. */
  push(chunk: string): void {
    let start = 0;
    // Bounded by the chunk: each pass consumes up to one newline.
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const line = this.rest + piece;
      this.rest = '';
      this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.skipping) return;
    this.rest += chunk.slice(start);
    if (this.rest.length > this.max) {
      this.onTooLong(this.rest.length);
      this.rest = '';
      this.skipping = true;
    }
  }

  /** End of input: a last line without its newline still counts. */
  end(): void {
    if (!this.skipping && this.rest.length > 0) this.emit(this.rest);
    this.rest = '';
  }

  private emit(line: string): void {
    if (line.length > this.max) return this.onTooLong(line.length);
    this.onLine(line);
  }
}
