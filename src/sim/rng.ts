// Seeded randomness for the simulation: the same seed replays the same run exactly.

/** sfc32-style generator from a 32-bit seed (mulberry32 spreads the seed first). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  const next32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return () => next32() / 4294967296;
}

/** An independent stream derived from a seed and a label, so adding a consumer does not shift others. */
export function forkRandom(seed: number, label: string): () => number {
  let h = seed >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return seededRandom(h);
}
