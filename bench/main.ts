import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { areas } from "../services/areas.js";
import { startMesh } from "../services/runtime/mesh.js";
import { BENCH_API_KEY, benchConfig } from "./bench-config.js";
import { prepareBenchDatabase } from "./bench-data.js";
import { benchCases } from "./cases.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { benchMethods, pairedThroughput, type MethodCase } from "./grpc-methods.js";
import { MatchScoringService } from "../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { describeMachine } from "./machine.js";
import { untilProfileStoreFilled } from "./spawn-serve.js";

/**
 * `make bench`: starts the mesh with its real services, drives each method on
 * the gRPC port with h2load beside an empty RPC measured in the same run, and
 * writes BENCHMARKS.md.
 */
const out = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1] : "BENCHMARKS.md";
const sectionsDir = process.argv.includes("--sections") ? process.argv[process.argv.indexOf("--sections") + 1] : undefined;
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const apiKey = BENCH_API_KEY;

// Every ScoreMatch runs the model (through the batcher) instead of hitting the prediction cache.
process.env.MATCH_PREDICTION_CACHE_TTL_MS = "0";
const config = benchConfig({
  DATABASE_URL: await prepareBenchDatabase(Number(process.env.BENCH_TRAVELLERS ?? 1_000_000)),
  LOG_LEVEL: "warn",
});
const mesh = await startMesh(config, { areas });
try {
  // Areas that train at start (recommendation) report ready when their model is in.
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  while ((await health.check({ service: "" })).status !== HealthCheckResponse_ServingStatus.SERVING)
    await new Promise((r) => setTimeout(r, 500));
  // The profile store fills after readiness; measuring meanwhile would time the fill, not the calls.
  const storeMs = await untilProfileStoreFilled(mesh.ports.admin);
  process.stderr.write(`bench: profile store filled ${(storeMs / 1000).toFixed(0)} s after SERVING\n`);
  const baseline: MethodCase = {
    name: "empty RPC (grpc.health.v1.Health/Check)",
    service: Health,
    method: Health.method.check,
    request: { service: "" },
    authenticated: false,
  };
  const cases = [baseline, ...(await benchCases(mesh))];
  const { figures, commands } = await benchMethods({ port: mesh.ports.grpc, apiKey, cases, seconds });
  const scoreMatch = cases.find((c) => c.method === MatchScoringService.method.scoreMatch)!;
  const paired = await pairedThroughput({ port: mesh.ports.grpc, apiKey, baseline, target: scoreMatch, seconds, rounds: 5 });
  const base = figures[0];
  const rows = figures.map((f) => {
    const ratio = f === base ? "—" : `${((f.many.rps / base.many.rps) * 100).toFixed(0)}%`;
    return `| ${f.name} | ${f.one.rps.toFixed(0)} | ${f.one.p50Ms.toFixed(3)} | ${f.one.p99Ms.toFixed(3)} | ${f.many.rps.toFixed(0)} | ${f.many.p50Ms.toFixed(3)} | ${f.many.p99Ms.toFixed(3)} | ${ratio} |`;
  });
  const md = `# Benchmarks

Written by \`make bench\` (\`node dist/bench/main.js\`) on ${new Date().toISOString().slice(0, 10)}.

Machine: ${describeMachine()}.

## gRPC methods on the gRPC port (@grpc/grpc-js), driven by h2load

Each method runs for ${seconds} s after a 1 s warm-up, at 1 request in flight and at 64 in flight
(4 connections × 16 streams), with a pre-encoded request frame. The baseline is an empty RPC on the
same server in the same run: \`grpc.health.v1.Health/Check\`, which goes through the same pipeline
(validation, tracing, metrics, error mapping) except the API-key check. Latencies are client-side,
from h2load's per-request log.

| method | rps @1 | p50 ms @1 | p99 ms @1 | rps @64 | p50 ms @64 | p99 ms @64 | rps @64 vs empty RPC |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}

ScoreMatch against the empty RPC at 64 in flight, in 5 rounds that alternate the two (${seconds} s each, same
commands): ${paired.ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(", ")}; **median ${(paired.median * 100).toFixed(0)}%** (target: at least 80%).

Commands (one pair per row; \`$TMP\` holds the request frame and the latency log):

\`\`\`
${commands.join("\n")}
\`\`\`
`;
  // Sections other benchmarks wrote in the same `make bench` run (the forecast evaluation...).
  // One call at a time, from a client process of its own.
  const { stdout: latencies } = await promisify(execFile)(process.execPath, [new URL("./latency-client.js", import.meta.url).pathname], {
    env: {
      ...process.env,
      BENCH_GRPC_PORT: String(mesh.ports.grpc),
      BENCH_ADMIN_PORT: String(mesh.ports.admin),
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
    },
    maxBuffer: 16 << 20,
  });
  const extra =
    sectionsDir && existsSync(sectionsDir)
      ? readdirSync(sectionsDir)
          .filter((f) => f.endsWith(".md"))
          .sort()
          .map((f) => readFileSync(join(sectionsDir, f), "utf8"))
      : [];
  writeFileSync(out, [md, latencies, ...extra].join("\n"));
  process.stdout.write(md);
} finally {
  await mesh.shutdown();
}
