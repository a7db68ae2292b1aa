// Fault injection on outgoing datagrams, to watch the protocol survive what UDP does on a bad
// network (SPEC §7) without needing one: `loss=0.2,dup=0.05,reorder=0.1[,delay=ms]`.
import { UsageError } from './usage.js';

export interface ChaosSpec {
  /** Probability a datagram is dropped. */
  loss: number;
  /** Probability a datagram is sent twice. */
  dup: number;
  /** Probability a copy is held back 1–20 ms, so later datagrams overtake it. */
  reorder: number;
  /** Extra delay in ms added to every datagram. */
  delay: number;
}

const PROBABILITIES = ['loss', 'dup', 'reorder'] as const;
const MAX_DELAY_MS = 10_000;

/** Parse a chaos spec; '' / 'off' / 'none' mean no faults (null). Bad spec → UsageError. */
export function parseChaos(text: string, origin = '--chaos'): ChaosSpec | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'off' || trimmed === 'none') return null;
  const spec: ChaosSpec = { loss: 0, dup: 0, reorder: 0, delay: 0 };
  const seen = new Set<string>();
  for (const part of trimmed.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([0-9.]+)\s*$/.exec(part);
    const bad = (why: string) => new UsageError(`${origin} '${trimmed.slice(0, 60)}': ${why} (expected e.g. loss=0.2,dup=0.05,reorder=0.1,delay=5)`);
    if (!m) throw bad(`'${part.slice(0, 30)}' is not key=value`);
    const [, key, raw] = m as unknown as [string, string, string];
    if (seen.has(key)) throw bad(`${key} is given twice`);
    seen.add(key);
    const value = Number(raw);
    if ((PROBABILITIES as readonly string[]).includes(key)) {
      if (!Number.isFinite(value) || value < 0 || value > 1) throw bad(`${key} must be a probability from 0 to 1`);
      spec[key as (typeof PROBABILITIES)[number]] = value;
    } else if (key === 'delay') {
      if (!Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) throw bad(`delay must be whole milliseconds from 0 to ${MAX_DELAY_MS}`);
      spec.delay = value;
    } else {
      throw bad(`unknown key '${key.slice(0, 20)}'`);
    }
  }
  return spec;
}

/** The --chaos value if given, else DHT_CHAOS from the environment, else no faults. */
export function chaosFromOptions(option: string | undefined, env: NodeJS.ProcessEnv = process.env): ChaosSpec | null {
  if (option !== undefined) return parseChaos(option, '--chaos');
  const fromEnv = env['DHT_CHAOS'];
  return fromEnv === undefined ? null : parseChaos(fromEnv, 'DHT_CHAOS');
}

export function describeChaos(spec: ChaosSpec): string {
  return `loss=${spec.loss}, dup=${spec.dup}, reorder=${spec.reorder}, delay=${spec.delay} ms`;
}

/** Applies a spec to each outgoing datagram: `deliver` is called 0, 1 or 2 times, maybe later. */
export class Chaos {
  constructor(readonly spec: ChaosSpec, private readonly random: () => number = Math.random) {}

  send(deliver: () => void): void {
    if (this.random() < this.spec.loss) return;
    const copies = this.random() < this.spec.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const hold = this.spec.delay + (this.random() < this.spec.reorder ? 1 + Math.floor(this.random() * 20) : 0);
      if (hold > 0) setTimeout(deliver, hold);
      else deliver();
    }
  }
}
