// Non-cryptographic 32-bit hashes: stable across processes, machines and
// restarts, so whatever they split or seed (A/B arms, held-out sets, synthetic
// data, text buckets) comes out the same everywhere.

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** FNV-1a of a string; a seed, when given, is mixed into the offset basis. */
export function fnv1a(text: string, seed = 0): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/**
 * A seeded hash of a string, spread over all 32 bits (FNV-1a, then the last
 * steps of MurmurHash3's finaliser): nearby strings give unrelated seeds.
 */
export function seededHash(seed: number, text: string): number {
  return avalanche(fnv1a(text, seed));
}

/** A seed for the i-th member of a seeded sequence: member i depends only on (seed, i). */
export function seedAt(seed: number, i: number): number {
  const h = (seed ^ 0x9e3779b9) >>> 0;
  return avalanche(Math.imul(h ^ i, 0x85ebca6b) >>> 0);
}

function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
