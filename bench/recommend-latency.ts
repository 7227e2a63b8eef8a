import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { Budget, RecommendationService, TripDuration } from "../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import type { LatencyTarget } from "./latency-target.js";
import { percentile } from "./percentile.js";
import { bucketDiff, serverBuckets } from "./server-histogram.js";

/**
 * RecommendDestinations seen by the client, one call at a time, beside the
 * empty RPC timed the same way in the same run: 500 travellers in turn,
 * after one call each has folded them in from PostgreSQL and cached their
 * state in Redis, without and with budget, trip-length and season filters.
 */
export async function recommendLatencies(target: LatencyTarget, apiKey: string): Promise<string> {
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${target.grpcPort}` });
  const recommend = createClient(RecommendationService, transport);
  const health = createClient(Health, transport);
  const headers = { authorization: `Bearer ${apiKey}` };
  const sql = target.sql;
  const people = await sql<{ id: string }[]>`select distinct user_id::text as id from destination_interactions order by 1 limit 500`;
  const [{ destinations }] = await sql<{ destinations: number }[]>`select count(*)::int as destinations from destinations`;
  const time = async (f: (i: number) => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await f(i);
      if (i >= 100) out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  };
  for (const p of people) await recommend.recommendDestinations({ userId: p.id }, { headers });
  const before = await serverBuckets(target.adminPort, "RecommendDestinations");
  const empty = await time(() => health.check({ service: "" }));
  const plain = await time((i) => recommend.recommendDestinations({ userId: people[i % people.length].id }, { headers }));
  const filtered = await time((i) =>
    recommend.recommendDestinations(
      {
        userId: people[i % people.length].id,
        filters: { budget: Budget.MEDIUM, duration: TripDuration.WEEK, travelStartDate: "2026-07-01" },
      },
      { headers },
    ),
  );
  const server = bucketDiff(await serverBuckets(target.adminPort, "RecommendDestinations"), before);
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${xs.length} | ${percentile(xs, 0.5).toFixed(2)} | ${percentile(xs, 0.95).toFixed(2)} | ${percentile(xs, 0.99).toFixed(2)} |`;
  return `## RecommendDestinations, one call at a time

Seen by the client over gRPC, ${destinations.toLocaleString("en")} destinations, top 10, ${people.length} travellers in turn, each already
folded in and cached in Redis (the first 100 calls of each row are warm-up).

| call | calls | p50 ms | p95 ms | p99 ms |
|---|---|---|---|---|
${row("empty RPC (grpc.health.v1.Health/Check)", empty)}
${row("RecommendDestinations, no filters", plain)}
${row("RecommendDestinations, budget + week + season filters", filtered)}

Server-side, the same ${server.total} RecommendDestinations calls (mlmesh_rpc_duration_seconds, from decoded request to
response; histogram buckets, so quantiles are bounds): p50 ≤ ${server.quantile(0.5)} ms, p95 ≤ ${server.quantile(0.95)} ms,
p99 ≤ ${server.quantile(0.99)} ms; ${((100 * server.within(0.005)) / server.total).toFixed(1)}% within 5 ms (target: p99 < 5 ms).
The client-side rows above include the client's own work (a separate process, \`dist/bench/latency-client.js\`) and loopback.
`;
}
