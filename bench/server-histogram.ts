import type { Mesh } from "../services/runtime/mesh.js";

type Buckets = Map<number, number>;

/** Cumulative bucket counts of one method's server-side latency histogram (mlmesh_rpc_duration_seconds). */
export async function serverBuckets(mesh: Mesh, method: string): Promise<Buckets> {
  const m = await mesh.metrics.rpcDuration.get();
  const out: Buckets = new Map();
  for (const v of m.values) {
    if (v.labels.method !== method || v.metricName !== "mlmesh_rpc_duration_seconds_bucket") continue;
    const bound = (v.labels as Record<string, string | number>).le;
    const le = bound === "+Inf" ? Infinity : Number(bound);
    out.set(le, (out.get(le) ?? 0) + v.value);
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
