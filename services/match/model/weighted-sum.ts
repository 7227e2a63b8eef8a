import { predecessorFactors } from "../features/pair-features.js";

/**
 * Model v0: the predecessor's fixed weights over its six factors, on [0, 1]
 * (the REST shape shows it on 0-100). It stays as the fallback when no
 * learned model is loaded.
 */
export const PREDECESSOR_WEIGHTS = { interests: 0.25, needs: 0.2, bio: 0.15, distance: 0.15, age: 0.1, prompt: 0.15 } as const;

export function weightedSum(features: Float32Array, offset = 0): number {
  const f = predecessorFactors(features, offset);
  let s = 0;
  for (const [k, w] of Object.entries(PREDECESSOR_WEIGHTS)) s += w * f[k as keyof typeof f];
  return s;
}
