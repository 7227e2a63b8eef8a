/**
 * Indices of the `k` highest scores, best first (ties in input order),
 * without an object per candidate: a search ranks a thousand candidates to
 * keep ten.
 */
export function bestOf(scores: ArrayLike<number>, k: number): number[] {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return Array.from(order.subarray(0, Math.min(k, n)));
}
