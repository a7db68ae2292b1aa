// Buffered line output. At ~10k datagrams a second a full trace is ~10k lines a second; one
// write per event-loop turn keeps the console from being the bottleneck.
export class LineWriter {
  private buffer: string[] = [];
  private scheduled = false;
  /** The reader went away (EPIPE, e.g. `| head`): output is dropped, the process keeps serving. */
  private broken = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', () => {
      this.broken = true;
      this.buffer = [];
    });
  }

  line(text: string): void {
    if (this.broken) return;
    this.buffer.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0 || this.broken) return;
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.stream.write(text);
  }

  /** Flush and call back once the stream has taken everything (before process.exit). */
  drain(done: () => void): void {
    this.flush();
    if (this.broken) return done();
    // An empty write's callback runs after every earlier write has been handed to the OS
    // (or failed: then there is nothing left to wait for either).
    this.stream.write('', () => done());
  }
}
