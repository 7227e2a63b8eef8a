/**
 * The best `limit` admitted destinations by score, with at most `perCountry`
 * from one country so a list is not ten cities of the same place; when the
 * filters leave too few countries, the cap gives way rather than the list
 * coming back short.
 */
export function topK(
  scores: Float32Array,
  limit: number,
  admit: (i: number) => boolean,
  countryOf: (i: number) => string,
  perCountry = 2,
): number[] {
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) if (admit(i)) order.push(i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const picked: number[] = [];
  const held: number[] = [];
  const perCountryCount = new Map<string, number>();
  for (const i of order) {
    if (picked.length === limit) break;
    const c = countryOf(i);
    const n = perCountryCount.get(c) ?? 0;
    if (n >= perCountry) {
      held.push(i);
      continue;
    }
    perCountryCount.set(c, n + 1);
    picked.push(i);
  }
  for (const i of held) {
    if (picked.length === limit) break;
    picked.push(i);
  }
  return picked.sort((a, b) => scores[b] - scores[a] || a - b);
}
