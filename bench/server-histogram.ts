export type Buckets = Map<number, number>;

/**
 * Cumulative bucket counts of one method's server-side latency histogram
 * (mlmesh_rpc_duration_seconds), scraped from the mesh's admin port as
 * Prometheus would.
 */
export async function serverBuckets(adminPort: number, method: string): Promise<Buckets> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const out: Buckets = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("mlmesh_rpc_duration_seconds_bucket{") || !line.includes(`method="${method}"`)) continue;
    const bound = /le="([^"]+)"/.exec(line)![1];
    const le = bound === "+Inf" ? Infinity : Number(bound);
    out.set(le, (out.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

/** What a run added to the histogram, with quantile bounds (bucket edges, in ms). */
export function bucketDiff(after: Buckets, before: Buckets) {
  const diff = [...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const total = diff.at(-1)?.[1] ?? 0;
  return {
    total,
    within: (seconds: number) => diff.find(([le]) => le === seconds)?.[1] ?? 0,
    quantile: (q: number) => {
      const hit = diff.find(([, n]) => n >= q * total);
      return hit && Number.isFinite(hit[0]) ? String(hit[0] * 1000) : "∞";
    },
  };
}
