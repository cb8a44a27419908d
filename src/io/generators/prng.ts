// A small seeded pseudo-random generator for the dataset generators.
// Sample data must be identical for a given seed on every machine and Node
// version, which Math.random cannot promise; mulberry32 is tiny, fast (a few
// integer operations per draw) and good enough for synthetic metrics.

export type Random = () => number;

/** Mixes any safe-integer seed into 32 bits, so seeds 1 and 2 start far apart (splitmix32 finaliser). */
export function mixSeed(seed: number): number {
  let h = (seed >>> 0) ^ Math.floor(seed / 4294967296);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: returns a function giving floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = mixSeed(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [low, high], both included. */
export function intBetween(random: Random, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}
