// The fleet section of `make bench` (`node dist/bench/fleet.js --markdown build/bench/fleet.md`):
// ScoreMatch driven by h2load through HAProxy in front of 1, 2 and 3 `mlmesh serve` replicas, beside
// the same load straight at one replica (no proxy) in the same run; then p99 while every replica of a
// 2-replica fleet is restarted in turn (SIGTERM, drain, start), beside p99 at rest measured just before.
// A database of its own (the sample set `make dev` loads, 2,000 travellers, models trained): the
// replicas migrate and may write at start, so the 1M-traveller mlmesh_bench is not theirs to use.
// FLEET_BENCH_SECONDS (10) per throughput run.
import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import postgres from "postgres";
import { ScoreMatchRequestSchema } from "../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { runCli, startFleet, type Fleet } from "../scripts/fleet/fleet.js";
import { PROXY_SETTINGS, withQuickHealthChecks } from "../scripts/fleet/proxy-settings.js";
import { BENCH_API_KEY } from "./bench-config.js";
import { grpcFrame, h2load, type LoadResult } from "./h2load.js";
import { describeMachine } from "./machine.js";

const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const SECONDS = Number(process.env.FLEET_BENCH_SECONDS ?? 10);
const ROOT = join(import.meta.dirname, "../..");
const cli = [process.execPath, join(ROOT, "dist/cli/main.js")];
const database = `mlmesh_bench_fleet_${process.pid}`;
const prefix = `bench-fleet-${process.pid}`;
const serverUrl = process.env.BENCH_PG_SERVER ?? "postgres://postgres@127.0.0.1:5432";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const env = {
  DATABASE_URL: `${serverUrl}/${database}`,
  REDIS_URL: redisUrl,
  MLMESH_REDIS_PREFIX: prefix,
  MLMESH_API_KEYS: BENCH_API_KEY,
};
// Health checked every second (as the fleet tests do): a drain then takes 6 s instead of 18 s.
const settings = withQuickHealthChecks(PROXY_SETTINGS);
const CLIENTS = 4;
const STREAMS = 16;

const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
await admin.unsafe(`drop database if exists ${database} with (force)`);
await admin.unsafe(`create database ${database}`);
const clearRedis = async () => {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
};

const rows: string[] = [];
let restartRow = "";
let fleet: Fleet | undefined;
try {
  await runCli(cli, ["migrate"], env);
  await runCli(cli, ["seed", "--sample"], env);
  await runCli(cli, ["train", "match"], env);
  await runCli(cli, ["train", "recommend"], env);
  const db = postgres(env.DATABASE_URL, { max: 1, onnotice: () => undefined });
  const [a, b] = await db<{ id: string }[]>`select id::text from travellers order by id limit 2`;
  await db.end();
  const frame = grpcFrame(toBinary(ScoreMatchRequestSchema, create(ScoreMatchRequestSchema, { userAId: a.id, userBId: b.id })));
  const drive = (port: number, seconds = SECONDS) =>
    h2load({
      url: `http://127.0.0.1:${port}/mlmesh.match.v1.MatchScoringService/ScoreMatch`,
      frame,
      headers: { authorization: `Bearer ${BENCH_API_KEY}` },
      clients: CLIENTS,
      streamsPerClient: STREAMS,
      seconds,
      warmupSeconds: 2,
    });
  const row = (what: string, r: LoadResult) =>
    `| ${what} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.failed + r.non200} |`;
  const start = async (replicas: number) => {
    await clearRedis();
    return startFleet({ replicas, workers: 0, cli, env, settings, dir: mkdtempSync(join(tmpdir(), "mlmesh-bench-fleet-")) });
  };

  for (const n of [1, 2, 3]) {
    fleet = await start(n);
    if (n === 1) rows.push(row("1 replica, no proxy (baseline)", await drive(fleet.replicas[0].ports.grpc)));
    rows.push(row(`${n} replica${n > 1 ? "s" : ""} through HAProxy`, await drive(fleet.proxy.grpc)));
    process.stderr.write(`fleet bench: ${rows.at(-1)}\n`);
    await fleet.stop();
    fleet = undefined;
  }

  // p99 at rest, then the same load while each replica is restarted in turn.
  fleet = await start(2);
  const rest = await drive(fleet.proxy.grpc, SECONDS);
  const f = fleet;
  let restartMs = 0;
  const rolling = (async () => {
    await new Promise((r) => setTimeout(r, 2_500));
    const t = performance.now();
    for (let i = 0; i < f.replicas.length; i++) await f.restart(i);
    restartMs = performance.now() - t;
  })();
  // Windows of the same length as at rest, one after another until both restarts are over.
  let done = false;
  void rolling.then(() => (done = true));
  const windows: LoadResult[] = [];
  while (!done) windows.push(await drive(fleet.proxy.grpc, SECONDS));
  await rolling;
  const during = {
    p50Ms: Math.max(...windows.map((w) => w.p50Ms)),
    p99Ms: Math.max(...windows.map((w) => w.p99Ms)),
    failed: windows.reduce((n, w) => n + w.failed, 0),
    non200: windows.reduce((n, w) => n + w.non200, 0),
  };
  restartRow = [
    "| 2 replicas through HAProxy | p50 ms | p99 ms | non-OK |",
    "|---|---|---|---|",
    `| at rest (${SECONDS} s) | ${rest.p50Ms.toFixed(1)} | ${rest.p99Ms.toFixed(1)} | ${rest.failed + rest.non200} |`,
    `| during a rolling restart (${windows.length} windows of ${SECONDS} s, the worst; the restart took ${(restartMs / 1000).toFixed(0)} s) | ${during.p50Ms.toFixed(1)} | ${during.p99Ms.toFixed(1)} | ${during.failed + during.non200} |`,
  ].join("\n");
} finally {
  await fleet?.stop();
  await clearRedis();
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end();
}

const md = `## A fleet behind HAProxy (bench/fleet.ts)

ScoreMatch (one pair: the prediction cache answers, so this measures the transport, the pipeline and the
proxy rather than the model) driven by h2load, ${CLIENTS} connections × ${STREAMS} streams, ${SECONDS} s after
2 s of warm-up, through HAProxy ${"(scripts/fleet/)"} in front of 1, 2 and 3 \`mlmesh serve\` replicas on this machine, beside the
same load straight at one replica in the same run. Every process (h2load, HAProxy, the replicas) shares
the machine's cores: more replicas cannot add CPU that is not there. ${describeMachine()}

| target | calls/s | p50 ms | p99 ms | non-OK |
|---|---|---|---|---|
${rows.join("\n")}

Each replica in turn gets SIGTERM (health NOT_SERVING, ${"drain"} while HAProxy's checks take it out, GOAWAY, exit)
and is started again, under the same load. non-OK counts h2load's failed streams and non-200 answers.

${restartRow}
`;
if (markdown) writeFileSync(markdown, md);
process.stdout.write(md);
