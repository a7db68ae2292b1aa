import { describe, expect, it } from 'vitest';
import { Chaos, chaosFromOptions, parseChaos } from '../../../src/net/chaos.js';
import { UsageError } from '../../../src/net/usage.js';

describe('parseChaos', () => {
  it('reads probabilities and an optional delay', () => {
    expect(parseChaos('loss=0.2,dup=0.05,reorder=0.1')).toEqual({ loss: 0.2, dup: 0.05, reorder: 0.1, delay: 0 });
    expect(parseChaos(' loss = 0.5 , delay=7 ')).toEqual({ loss: 0.5, dup: 0, reorder: 0, delay: 7 });
  });

  it('treats empty, off and none as no faults', () => {
    for (const text of ['', 'off', 'none']) expect(parseChaos(text)).toBeNull();
  });

  it.each(['loss', 'loss=1.5', 'drop=0.1', 'loss=0.1,loss=0.2', 'delay=1.5', 'dup=-1', 'reorder=x'])('rejects %j in one line', (text) => {
    expect(() => parseChaos(text)).toThrow(UsageError);
    try {
      parseChaos(text);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('prefers --chaos over DHT_CHAOS', () => {
    expect(chaosFromOptions('loss=0.3', { DHT_CHAOS: 'loss=0.9' })?.loss).toBe(0.3);
    expect(chaosFromOptions(undefined, { DHT_CHAOS: 'loss=0.9' })?.loss).toBe(0.9);
    expect(chaosFromOptions(undefined, {})).toBeNull();
  });
});

describe('Chaos', () => {
  const fixed = (...values: number[]) => () => values.shift() ?? 0.99;

  it('drops with probability loss', () => {
    let sent = 0;
    new Chaos({ loss: 0.5, dup: 0, reorder: 0, delay: 0 }, fixed(0.4)).send(() => sent++);
    new Chaos({ loss: 0.5, dup: 0, reorder: 0, delay: 0 }, fixed(0.6, 0.9, 0.9)).send(() => sent++);
    expect(sent).toBe(1);
  });

  it('duplicates with probability dup', () => {
    let sent = 0;
    new Chaos({ loss: 0, dup: 0.5, reorder: 0, delay: 0 }, fixed(0.9, 0.1, 0.9, 0.9)).send(() => sent++);
    expect(sent).toBe(2);
  });

  it('holds a datagram back so a later one overtakes it', async () => {
    const order: string[] = [];
    const chaos = new Chaos({ loss: 0, dup: 0, reorder: 0.5, delay: 0 }, fixed(0.9, 0.9, 0.1, 0.5, 0.9, 0.9, 0.9));
    const held = new Promise<void>((resolve) => chaos.send(() => { order.push('first'); resolve(); }));
    chaos.send(() => order.push('second'));
    await held;
    expect(order).toEqual(['second', 'first']);
  });
});
