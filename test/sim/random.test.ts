// The VOPR-style random workload: persons typing valid and invalid commands at random consoles on
// a faulty network with crashes, restarts and partitions, checked by sim/checker.ts. Known
// weaknesses are counted, not failed. The manager detects deaths and repairs (the default).
import { describe, it, expect } from 'vitest';
import { DEFAULTS, loadSimData, parseSimArgs, replayArgs, runSeed, type SimOptions } from '../../src/sim/run.js';
import { PeerCore, type PeerInput, type PeerEffect } from '../../src/peer/core.js';
import { InvariantError } from '../../src/runtime/assert.js';
import { KNOWN } from '../../src/sim/checker.js';

const RANDOM: SimOptions = { ...DEFAULTS, workload: 'random', steps: 40, records: 200, loss: 0.1, dup: 0.05, reorder: 0.1, crash: 0.03, partition: 0.03 };
const data = loadSimData(RANDOM);

describe('random workload with faults, crashes and partitions', () => {
  it('200 seeds (latency lan, uniform, exp and per link) pass the checker', () => {
    const latencies = ['lan', 'uniform', 'exp', 'link'] as const;
    const failed: string[] = [];
    const known = new Map<string, number>();
    let answers = 0;
    let crashes = 0;
    let partitions = 0;
    let setups = 0;
    let repairs = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = runSeed({ ...RANDOM, latency: latencies[seed % 4]! }, seed, data);
      if (!r.ok) failed.push(`seed ${seed}: ${r.failures.join('; ')}`);
      for (const [k, v] of r.known) known.set(k, (known.get(k) ?? 0) + v);
      answers += r.answers;
      crashes += r.crashes;
      partitions += r.partitions;
      setups += r.completed.get('dht-complete') ?? 0;
      repairs += r.completed.get('repair') ?? 0;
    }
    expect(failed).toEqual([]);
    // The workload does reach the interesting states.
    expect(answers).toBeGreaterThan(100);
    expect(setups).toBeGreaterThan(100);
    expect(crashes).toBeGreaterThan(50);
    expect(partitions).toBeGreaterThan(50);
    // Crashed members of ready DHTs are repaired around, their counts checked like a setup's.
    expect(repairs).toBeGreaterThan(20);
    // Known weaknesses are counted, not failed. (A peer stranded by a manager restart is no longer
    // one: the checker fails the seed, PROTOCOL §4.10.)
    expect(known.get(KNOWN.duplicateName)).toBeGreaterThan(0);
    console.log(`random workload: 200 seeds, ${answers} answers checked, ${setups} setups, ${repairs} repairs, ${crashes} crashes, ${partitions} partitions; known: ${[...known].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  });
});

describe('without failure detection (--no-detect)', () => {
  it('200 seeds pass the checker: a dead peer stays registered, and the manager gives up waiting on it', () => {
    const failed: string[] = [];
    let registers = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = runSeed({ ...RANDOM, detect: false }, seed, data);
      if (!r.ok) failed.push(`seed ${seed}: ${r.failures.join('; ')}`);
      registers += r.completed.get('register') ?? 0;
      expect(r.completed.get('repair') ?? 0).toBe(0);
    }
    expect(failed).toEqual([]);
    expect(registers).toBeGreaterThan(200 * 5); // most peers of most seeds register
  });
});

describe('a manager restart strands nobody (PROTOCOL §4.10)', () => {
  it('with the manager crashing often, every seed passes the checker, which fails a stranded peer', () => {
    // Manager crashes (and quits) are frequent here: most seeds restart it with peers registered.
    const o: SimOptions = { ...RANDOM, crash: 0.08, steps: 60 };
    const failed = [];
    let crashes = 0;
    for (let seed = 301; seed <= 340; seed++) {
      const r = runSeed(o, seed, data);
      if (!r.ok) failed.push(`seed ${seed}: ${r.failures.join('; ')}`);
      crashes += r.crashes;
    }
    expect(failed).toEqual([]);
    expect(crashes).toBeGreaterThan(100);
  });

  it('the checker catches a manager that forgets (started without a saved state)', () => {
    const o: SimOptions = { ...RANDOM, crash: 0.08, steps: 60 };
    const failures = [];
    for (let seed = 301; seed <= 320; seed++) failures.push(...runSeed(o, seed, data, { stateless: true }).failures);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(/^check: at [\d.]+ ms: (peers stranded by a manager restart: .* were registered before it and are not after it|peer\w+ is stranded: it is registered as \w+, and the manager answers NOT_REGISTERED)$/);
  });
});

describe('replay', () => {
  it('the printed replay options run the identical trace (same digest of every print and datagram)', () => {
    const o: SimOptions = { ...RANDOM, latency: 'link', trace: 'summary', steps: 60 };
    const first = runSeed(o, 17, data);
    const again = parseSimArgs([...replayArgs(o, 17), '--verbose']);
    expect(again.firstSeed).toBe(17);
    expect(again.seeds).toBe(1);
    const echoed: string[] = [];
    const second = runSeed(again, again.firstSeed, loadSimData(again), { echo: (l) => void echoed.push(l) });
    expect(second.digest).toBe(first.digest);
    expect(second.known).toEqual(first.known);
    expect(echoed.length).toBeGreaterThan(100);
    expect(runSeed(o, 18, data).digest).not.toBe(first.digest);
  });

  it('the script workload replays too', () => {
    const o: SimOptions = { ...DEFAULTS, records: 300, latency: 'exp' };
    const d = loadSimData(o);
    const first = runSeed(o, 5, d);
    expect(first.ok).toBe(true);
    const again = parseSimArgs(replayArgs(o, 5));
    expect(runSeed(again, 5, loadSimData(again)).digest).toBe(first.digest);
  });

  it('rejects bad options in one line', () => {
    expect(() => parseSimArgs(['--latency', 'slow'])).toThrow(/--latency must be one of lan, uniform, exp, link/);
    expect(() => parseSimArgs(['--crash', '2'])).toThrow(/not a probability/);
    expect(() => parseSimArgs(['--steps', '1.5'])).toThrow(/whole number/);
  });
});

/** A peer core with a planted bug: it breaks an invariant when a found record comes back. */
class BrokenPeerCore extends PeerCore {
  override handle(now: number, input: PeerInput): PeerEffect[] {
    if (input.kind === 'datagram' && input.msg.t === 'event-result' && input.msg.found) throw new InvariantError('planted: a found record');
    return super.handle(now, input);
  }
}

describe('a broken core fails its seed', () => {
  it('an InvariantError inside a core is not guarded in the simulation: the seed fails and says where', () => {
    const broken = { makePeerCore: (...a: ConstructorParameters<typeof PeerCore>) => new BrokenPeerCore(...a) };
    const reports = [1, 2, 3, 4, 5, 6].map((seed) => runSeed({ ...RANDOM, crash: 0, partition: 0, steps: 60 }, seed, data, broken));
    const failed = reports.filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expect(r.failures[0]).toMatch(/^invariant broken: planted: a found record \(.*BrokenPeerCore\.handle/);
    // The same seeds with the real core pass.
    for (const r of failed) expect(runSeed({ ...RANDOM, crash: 0, partition: 0, steps: 60 }, r.seed, data).ok).toBe(true);
  });

  it('the script workload fails too, naming the step', () => {
    const broken = { makePeerCore: (...a: ConstructorParameters<typeof PeerCore>) => new BrokenPeerCore(...a) };
    const r = runSeed({ ...DEFAULTS, records: 300 }, 3, loadSimData({ ...DEFAULTS, records: 300 }), broken);
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatch(/invariant broken: planted/);
  });
});

/** Prints a field of every found record wrong (as a bug in the answer path would). */
class WrongRecordCore extends PeerCore {
  override handle(now: number, input: PeerInput): PeerEffect[] {
    if (input.kind === 'datagram' && input.msg.t === 'event-result' && input.msg.record) {
      const record = [...input.msg.record];
      record[4] = `${record[4]}!`;
      return super.handle(now, { ...input, msg: { ...input.msg, record } });
    }
    return super.handle(now, input);
  }
}

/** Prints node 0's count one too high after every setup and rebuild. */
class WrongCountCore extends PeerCore {
  override handle(now: number, input: PeerInput): PeerEffect[] {
    return super.handle(now, input).map((e) => {
      const m = e.kind === 'print' ? /^node 0 (\w+): (\d+) records?$/.exec(e.text) : null;
      return m ? { kind: 'print', text: `node 0 ${m[1]}: ${Number(m[2]) + 1} records` } : e;
    });
  }
}

describe('the checker catches wrong answers', () => {
  const quiet = { ...RANDOM, crash: 0, partition: 0, steps: 60 };
  it('a printed record that differs from the data', () => {
    const failures = [1, 2, 3, 4].flatMap((seed) => runSeed(quiet, seed, data, { makePeerCore: (...a) => new WrongRecordCore(...a) }).failures);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(/^check: at [\d.]+ ms: peer\d+ printed 'event_type: .*!' for event \d+; the data says/);
  });

  it('per-node counts that do not match the hash', () => {
    const failures = [1, 2, 3].flatMap((seed) => runSeed(quiet, seed, data, { makePeerCore: (...a) => new WrongCountCore(...a) }).failures);
    expect(failures.length).toBe(3);
    expect(failures[0]).toMatch(/printed counts \d+, .* on \d+ nodes; the hash gives/);
  });
});
