import { writeFileSync } from "node:fs";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { MatchScoringService, ScoreMatchRequestSchema } from "../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { areas } from "../services/areas.js";
import { startMesh } from "../services/runtime/mesh.js";
import { BENCH_API_KEY, benchConfig } from "./bench-config.js";
import { prepareBenchDatabase } from "./bench-data.js";
import { grpcFrame, h2load, type LoadResult } from "./h2load.js";
import { describeMachine } from "./machine.js";
import { untilProfileStoreFilled } from "./spawn-serve.js";

/**
 * `make bench`, "ways in": ScoreMatch at 64 in flight with the prediction
 * cache off, through every way a client can call it (gRPC port, REST
 * gateway, Connect binary and JSON over HTTP/1.1 and h2c, gRPC-Web), each as a
 * share of the gRPC port's throughput measured in the same round. Rounds
 * alternate the ways so that a slow spell of a shared machine lands on every
 * row. BENCH_DATABASE and BENCH_TRAVELLERS name a small database of one's own
 * to iterate on; BENCH_WAYS (comma-separated names) runs some ways only, for a
 * profile (without `grpc` among them, no shares).
 */
const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_WAYS_ROUNDS ?? 3);
const only = process.env.BENCH_WAYS?.split(",");

process.env.MATCH_PREDICTION_CACHE_TTL_MS = "0";
const config = benchConfig({
  DATABASE_URL: await prepareBenchDatabase(Number(process.env.BENCH_TRAVELLERS ?? 1_000_000), process.env.BENCH_DATABASE ?? "mlmesh_bench"),
  LOG_LEVEL: "warn",
});
const mesh = await startMesh(config, { areas });

interface Way {
  name: string;
  label: string;
  port: number;
  path: string;
  contentType: string;
  body: Uint8Array;
  h1: boolean;
  headers: Record<string, string>;
  /** A real client of this protocol, called once before the load: h2load sees only the HTTP status. */
  check: () => Promise<unknown>;
}

try {
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  while ((await health.check({ service: "" })).status !== HealthCheckResponse_ServingStatus.SERVING)
    await new Promise((r) => setTimeout(r, 500));
  // The profile store fills after readiness, on the same cores: measuring meanwhile would share them with the fill.
  await untilProfileStoreFilled(mesh.ports.admin);
  const [a, b] = await mesh.db.sql<{ id: string }[]>`select id::text from travellers order by id limit 2`;
  const request = create(ScoreMatchRequestSchema, { userAId: a.id, userBId: b.id, context: { destination: "Lisbon" } });
  const binary = toBinary(ScoreMatchRequestSchema, request);
  const json = new TextEncoder().encode(toJsonString(ScoreMatchRequestSchema, request));
  const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
  const connectUrl = `http://127.0.0.1:${mesh.ports.connect}`;
  const scoreMatch = (transport: Transport) => () => createClient(MatchScoringService, transport).scoreMatch(request, { headers: auth });
  const rpcPath = `/${MatchScoringService.typeName}/${MatchScoringService.method.scoreMatch.name}`;
  const connectHeaders = { ...auth, "connect-protocol-version": "1" };
  const ways: Way[] = [
    {
      name: "grpc",
      label: "gRPC port (grpc-js), h2c",
      port: mesh.ports.grpc,
      path: rpcPath,
      contentType: "application/grpc",
      body: grpcFrame(binary),
      h1: false,
      headers: auth,
      check: scoreMatch(createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` })),
    },
    {
      name: "rest",
      label: "REST gateway, JSON over HTTP/1.1",
      port: mesh.ports.gateway,
      path: "/match/score",
      contentType: "application/json",
      body: json,
      h1: true,
      headers: auth,
      check: async () => {
        const res = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/match/score`, { method: "POST", headers: auth, body: json });
        if (res.status !== 200) throw new Error(`REST answered ${res.status}: ${await res.text()}`);
      },
    },
    {
      name: "connect-proto-h1",
      label: "Connect, binary protobuf over HTTP/1.1",
      port: mesh.ports.connect,
      path: rpcPath,
      contentType: "application/proto",
      body: binary,
      h1: true,
      headers: connectHeaders,
      check: scoreMatch(createConnectTransport({ baseUrl: connectUrl, httpVersion: "1.1" })),
    },
    {
      name: "connect-proto-h2c",
      label: "Connect, binary protobuf over h2c",
      port: mesh.ports.connect,
      path: rpcPath,
      contentType: "application/proto",
      body: binary,
      h1: false,
      headers: connectHeaders,
      check: scoreMatch(createConnectTransport({ baseUrl: connectUrl, httpVersion: "2" })),
    },
    {
      name: "connect-json-h1",
      label: "Connect, JSON over HTTP/1.1",
      port: mesh.ports.connect,
      path: rpcPath,
      contentType: "application/json",
      body: json,
      h1: true,
      headers: connectHeaders,
      check: scoreMatch(createConnectTransport({ baseUrl: connectUrl, httpVersion: "1.1", useBinaryFormat: false })),
    },
    {
      name: "connect-json-h2c",
      label: "Connect, JSON over h2c",
      port: mesh.ports.connect,
      path: rpcPath,
      contentType: "application/json",
      body: json,
      h1: false,
      headers: connectHeaders,
      check: scoreMatch(createConnectTransport({ baseUrl: connectUrl, httpVersion: "2", useBinaryFormat: false })),
    },
    {
      name: "grpc-web-h1",
      label: "gRPC-Web (Connect port), binary over HTTP/1.1",
      port: mesh.ports.connect,
      path: rpcPath,
      contentType: "application/grpc-web+proto",
      body: grpcFrame(binary),
      h1: true,
      headers: auth,
      check: scoreMatch(createGrpcWebTransport({ baseUrl: connectUrl, httpVersion: "1.1" })),
    },
  ].filter((w) => !only || only.includes(w.name));
  for (const w of ways) await w.check();

  const results = new Map<string, { runs: LoadResult[]; ratios: number[]; command: string }>();
  for (let round = 0; round < rounds; round++) {
    let grpcRps = Number.NaN;
    for (const w of ways) {
      const r = await h2load({
        url: `http://127.0.0.1:${w.port}${w.path}`,
        frame: w.body,
        headers: w.headers,
        contentType: w.contentType,
        h1: w.h1,
        // 64 in flight either way: HTTP/1.1 carries one call per connection, h2c 16 streams on each of 4.
        clients: w.h1 ? 64 : 4,
        streamsPerClient: w.h1 ? 1 : 16,
        seconds,
        warmupSeconds: 1,
      });
      if (r.failed > 0 || r.requests === 0) throw new Error(`${w.name}: ${r.failed} failed requests, ${r.requests} answered 200`);
      if (w.name === "grpc") grpcRps = r.rps;
      const entry = results.get(w.name) ?? { runs: [], ratios: [], command: r.command };
      entry.runs.push(r);
      entry.ratios.push(r.rps / grpcRps);
      results.set(w.name, entry);
      process.stderr.write(`ways-in round ${round + 1}: ${w.name} ${r.rps.toFixed(0)} rps\n`);
    }
  }

  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const rows = ways.map((w) => {
    const { runs, ratios } = results.get(w.name)!;
    const pick = runs[runs.indexOf([...runs].sort((x, y) => x.rps - y.rps)[Math.floor(runs.length / 2)])];
    const share =
      w.name === "grpc" ? "—" : `**${(median(ratios) * 100).toFixed(0)}%** (${ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(", ")})`;
    return `| ${w.label} | ${pick.rps.toFixed(0)} | ${pick.p50Ms.toFixed(2)} | ${pick.p99Ms.toFixed(2)} | ${share} |`;
  });
  const md = `## Ways in: ScoreMatch through each protocol

Written by \`node dist/bench/ways-in.js\` (part of \`make bench\`) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${describeMachine()}; shared and noisy, so read the shares, not the absolute figures.

ScoreMatch on one pair, prediction cache off (\`MATCH_PREDICTION_CACHE_TTL_MS=0\`: every call runs the
model through the batcher), 64 calls in flight: 4 connections × 16 streams over h2c, 64 connections over
HTTP/1.1. Driven by h2load (\`--h1\` for HTTP/1.1) with a pre-encoded body, ${seconds} s after a 1 s warm-up,
in ${rounds} rounds that each run every way in turn; the share is each round's throughput over the gRPC port's
in the same round (median, then each round). Each way was first called once with a real client of its
protocol (grpc-js's peer @connectrpc/connect-node transports, fetch for REST), since h2load sees only the
HTTP status. rps, p50 and p99 are from the median round.
Targets: Connect binary at least 80% of gRPC over HTTP/1.1 and h2c, Connect JSON at least 70%.

| way | rps @64 | p50 ms | p99 ms | share of gRPC port |
|---|---|---|---|---|
${rows.join("\n")}

Commands (\`$TMP\` holds the request body and the latency log):

\`\`\`
${ways.map((w) => results.get(w.name)!.command).join("\n")}
\`\`\`
`;
  if (markdown) writeFileSync(markdown, md);
  process.stdout.write(md);
} finally {
  await mesh.shutdown();
}
