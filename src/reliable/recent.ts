// Duplicate suppression: the (sender, request id) pairs seen recently, with what was answered.
// Bounded FIFO: a retransmission arrives within seconds, so the oldest entries can go.

export class Recent<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.capacity && !this.map.has(key)) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}

export const requestKey = (ip: string, port: number, rid: number): string => `${ip}:${port}#${rid}`;
