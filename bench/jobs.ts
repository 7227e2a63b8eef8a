import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Queue, Worker, type JobsOptions } from "bullmq";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import postgres from "postgres";
import { InferenceTask, JobQueueService, SubmitInferenceJobRequestSchema } from "../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobsAreaWith } from "../services/jobs/service.js";
import { startMesh } from "../services/runtime/mesh.js";
import { BENCH_API_KEY, benchConfig } from "./bench-config.js";
import { grpcFrame, h2load } from "./h2load.js";
import { percentile } from "./percentile.js";
import { describeMachine } from "./machine.js";
import { noopHandlers } from "./noop-handlers.js";

/**
 * The job queue beside raw BullMQ on the same Redis in the same run: submits
 * per second over gRPC (each one a PostgreSQL record plus a queue entry)
 * against BullMQ's own `add`; no-op jobs processed per second by `mlmesh
 * worker`'s machinery against a bare BullMQ Worker; and submit-to-start
 * latency at a steady 1,000 jobs/s. The jobs are a no-op handler registered
 * for the score_candidates task in this benchmark's own handler map, so the
 * figures are the queue's, not a model's.
 */
const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 64;
const WORKER_CONCURRENCY = 64;
const DRAIN_JOBS = 5000;
const RATE = 1000;
const apiKey = BENCH_API_KEY;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `bench-jobs-${process.pid}`;
process.env.MLMESH_QUEUE_PREFIX = prefix;

const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => undefined });
await admin.unsafe("drop database if exists mlmesh_bench_jobs with (force)");
await admin.unsafe("create database mlmesh_bench_jobs");
await admin.end();
const databaseUrl = "postgres://postgres@127.0.0.1:5432/mlmesh_bench_jobs";

const config = benchConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LOG_LEVEL: "error" });
const mesh = await startMesh(config, { areas: [jobsAreaWith(noopHandlers)] });
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const rawQueue = new Queue("raw", { connection: redis, prefix });
const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
const submit = () =>
  client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES }, { headers: { authorization: `Bearer ${apiKey}` } });

try {
  // 1. Submits per second: gRPC SubmitInferenceJob (h2load, 64 in flight) against BullMQ add (64 in flight).
  const frame = grpcFrame(
    toBinary(SubmitInferenceJobRequestSchema, create(SubmitInferenceJobRequestSchema, { task: InferenceTask.SCORE_CANDIDATES })),
  );
  const emptyRpc = () =>
    h2load({
      url: `http://127.0.0.1:${mesh.ports.grpc}/grpc.health.v1.Health/Check`,
      frame: grpcFrame(new Uint8Array(0)),
      headers: {},
      clients: 4,
      streamsPerClient: 16,
      seconds: SECONDS,
      warmupSeconds: 1,
    });
  // The empty RPC before and after the submits, averaged: the machine's load drifts during a run.
  const emptyBefore = await emptyRpc();
  // SubmitInferenceJob from h2load, 64 in flight; `paced` offers a steady rate instead of all it can.
  const submitLoad = (paced: { warmupSeconds: number; rpsPerClient?: number }) =>
    h2load({
      url: `http://127.0.0.1:${mesh.ports.grpc}/${JobQueueService.typeName}/SubmitInferenceJob`,
      frame,
      headers: { authorization: `Bearer ${apiKey}` },
      clients: 4,
      streamsPerClient: 16,
      seconds: SECONDS,
      ...paced,
    });
  const submits = await submitLoad({ warmupSeconds: 1 });
  const emptyAfter = await emptyRpc();
  const empty = { rps: (emptyBefore.rps + emptyAfter.rps) / 2 };
  const addLoop = (options: () => JobsOptions) =>
    timed(SECONDS, async (until) => {
      let n = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < until) {
            await rawQueue.add("score_candidates", { jobId: randomUUID(), run: 0, traceParent: "" }, options());
            n++;
          }
        }),
      );
      return n;
    });
  const rawAdds = await addLoop(() => ({ removeOnComplete: { count: 1000 } }));
  // What BullMQ costs for the jobs we queue: our options (custom id, priority, attempts, backoff, retention).
  const sameOptions = await addLoop(() => ({
    jobId: `${randomUUID()}.0`,
    attempts: 3,
    backoff: { type: "exponential", delay: 1000 },
    priority: 101,
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 86_400, count: 10_000 },
  }));
  const bulk = await timed(SECONDS, async (until) => {
    let n = 0;
    while (performance.now() < until) {
      await rawQueue.addBulk(Array.from({ length: 1000 }, () => ({ name: "noop", data: {}, opts: { removeOnComplete: { count: 1000 } } })));
      n += 1000;
    }
    return n;
  });

  // 2. No-op jobs processed per second: drain DRAIN_JOBS queued jobs.
  await rawQueue.obliterate({ force: true });
  // Ours drains what the submit benchmark queued (at least DRAIN_JOBS).
  while ((await pendingJobs()) < DRAIN_JOBS) await Promise.all(Array.from({ length: CONCURRENCY }, submit));
  const submitted = await pendingJobs();
  // Timed from the first job started to the last finished, so the worker process's start-up is not counted.
  const worker = await spawnWorker();
  while ((await pendingJobs()) > 0) await sleep(20);
  await worker.stop();
  const [{ seconds: drainSeconds }] = await mesh.db.sql<{ seconds: number }[]>`
    select extract(epoch from (max(finished_at) - min(started_at)))::float8 as seconds from jobs`;
  const oursDrain = submitted / drainSeconds;
  await rawQueue.addBulk(Array.from({ length: DRAIN_JOBS }, () => ({ name: "noop", data: {}, opts: { removeOnComplete: true } })));
  const rawDrain = await drain(DRAIN_JOBS, async () => {
    const worker = new Worker("raw", async () => ({}), {
      connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: WORKER_CONCURRENCY,
    });
    return { stop: () => worker.close(), done: async () => (await rawQueue.getJobCountByTypes("wait", "active", "prioritized")) === 0 };
  });

  // 3. Submit-to-start at a steady RATE jobs/s, with a worker running.
  await mesh.db.sql`truncate jobs`;
  const pacedWorker = await spawnWorker();
  // Offered by h2load (C), not by a gRPC client in this process: that client cost the API's event loop about
  // twice what serving the submits did, and its queueing was counted as the queue's.
  const steady = await submitLoad({ warmupSeconds: 0, rpsPerClient: RATE / 4 });
  while ((await pendingJobs()) > 0) await sleep(100);
  await pacedWorker.stop();
  const timings = await mesh.db.sql<{ job_id: string; created: number; started: number }[]>`
    select job_id, extract(epoch from created_at) * 1000 as created, extract(epoch from started_at) * 1000 as started
    from jobs where started_at is not null`;
  const ours = timings.map((r) => Number(r.started) - Number(r.created)).sort((a, b) => a - b);
  const stages = await stagesOf(timings);
  const rawLatencies: number[] = [];
  const rawWorker = new Worker("raw", async (job) => void rawLatencies.push((job.processedOn ?? Date.now()) - job.timestamp), {
    connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: WORKER_CONCURRENCY,
  });
  await paced(RATE, SECONDS, () => rawQueue.add("noop", {}, { removeOnComplete: true }));
  while ((await rawQueue.getJobCountByTypes("wait", "active")) > 0) await sleep(100);
  await rawWorker.close();
  rawLatencies.sort((a, b) => a - b);

  const span = (sorted: number[]) => `${percentile(sorted, 0.5).toFixed(1)} / ${percentile(sorted, 0.99).toFixed(1)}`;
  const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
  const md = `## JobQueue beside raw BullMQ

Written by \`node dist/bench/jobs.js\` (part of \`make bench\`) on ${new Date().toISOString().slice(0, 10)}; ${describeMachine()}.
Same Redis (127.0.0.1:6379, prefix \`${prefix}\`), same run. Jobs run a no-op handler (this benchmark's own
handler map), so the figures are the queue's machinery: for ours, a PostgreSQL record per job created, started and
completed by guarded updates, plus pub/sub notifications; for raw BullMQ, nothing but Redis. Our worker runs as
\`mlmesh worker\` does, in a process of its own beside the API (\`dist/bench/noop-worker.js\`: startJobWorker with the
no-op handlers); raw BullMQ's Worker runs in the benchmark's process. Two cores serve the API, the worker, PostgreSQL,
Redis and the load.

| measure | ml-mesh | raw BullMQ | ml-mesh vs raw |
|---|---|---|---|
| submits/s, 64 in flight (ours: gRPC SubmitInferenceJob via h2load; raw: \`queue.add\` with default options) | ${submits.rps.toFixed(0)} (p99 ${submits.p99Ms.toFixed(2)} ms, ${submits.failed} failed) | ${rawAdds.rate.toFixed(0)} | ${ratio(submits.rps, rawAdds.rate)} |
| submits/s, 64 in flight (raw: \`queue.add\` with the options we queue with) | ${submits.rps.toFixed(0)} | ${sameOptions.rate.toFixed(0)} | ${ratio(submits.rps, sameOptions.rate)} |
| the ceiling: an empty RPC (grpc.health.v1.Health/Check) on the same server, 64 in flight (mean of a run before and one after the submits) | ${empty.rps.toFixed(0)} | | ${ratio(empty.rps, rawAdds.rate)} of raw \`add\` |
| submits/s as a share of that empty RPC (the submit's cost over gRPC's own: auth, validation, the record, the queue entry) | ${ratio(submits.rps, empty.rps)} | | |
| batch submit, jobs/s (raw: \`addBulk\` of 1,000; ours has no batch RPC: the row above is its batch path, concurrent calls) | — | ${bulk.rate.toFixed(0)} | — |
| no-op jobs processed/s, worker concurrency ${WORKER_CONCURRENCY} (ours: the ${submitted} jobs submitted above, first start to last finish; raw: ${DRAIN_JOBS}) | ${oursDrain.toFixed(0)} | ${rawDrain.toFixed(0)} | ${ratio(oursDrain, rawDrain)} |
| submit-to-start p50 ms at ${RATE} jobs/s for ${SECONDS} s (ours: record created to record started, right before the handler runs, submits offered by h2load \`--rps\`, ${steady.rps.toFixed(0)}/s reached; raw: \`add\` from this process, entry created to taken) | ${percentile(ours, 0.5).toFixed(1)} | ${percentile(rawLatencies, 0.5).toFixed(1)} | |
| submit-to-start p99 ms at ${RATE} jobs/s | ${percentile(ours, 0.99).toFixed(1)} | ${percentile(rawLatencies, 0.99).toFixed(1)} | |
| where ours goes, p50 / p99 ms (the ${stages.queued.length} jobs BullMQ still keeps): recorded → queued (PostgreSQL commit, addBulk) | ${span(stages.queued)} | | |
| queued → taken by the worker (BullMQ's wait and moveToActive) | ${span(stages.taken)} | | |
| taken → recorded as started (the worker's start update) | ${span(stages.started)} | | |

h2load command: \`${submits.command}\`
`;
  process.stdout.write(md);
  if (markdown) writeFileSync(markdown, md);
} finally {
  await rawQueue.obliterate({ force: true }).catch(() => undefined);
  for (const name of ["training", "inference", "dead-letter"]) {
    const q = new Queue(name, { connection: redis, prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  await rawQueue.close();
  redis.disconnect();
  await mesh.shutdown();
}
// Workers' blocking connections can outlive their close by a poll interval; the figures are written.
process.exit(0);

/**
 * Where submit-to-start goes, for the jobs whose BullMQ entries are still kept (the last 1,000 completed):
 * recorded (the row's created_at) to queued (the entry's timestamp, taken by addBulk), queued to taken
 * (processedOn, when the worker's moveToActive ran), taken to started (the row's started_at). Same clock: one machine.
 */
async function stagesOf(timings: readonly { job_id: string; created: number; started: number }[]) {
  const pipeline = redis.pipeline();
  for (const t of timings) pipeline.hmget(`${prefix}:inference:${t.job_id}.0`, "timestamp", "processedOn");
  const replies = (await pipeline.exec()) ?? [];
  const stages = { queued: [] as number[], taken: [] as number[], started: [] as number[] };
  timings.forEach((t, i) => {
    const [queuedAt, takenAt] = ((replies[i]?.[1] ?? []) as (string | null)[]).map(Number);
    if (!queuedAt || !takenAt) return;
    stages.queued.push(queuedAt - Number(t.created));
    stages.taken.push(takenAt - queuedAt);
    stages.started.push(Number(t.started) - takenAt);
  });
  for (const list of Object.values(stages)) list.sort((a, b) => a - b);
  return stages;
}

async function pendingJobs(): Promise<number> {
  const [{ n }] = await mesh.db.sql<{ n: number }[]>`select count(*)::int as n from jobs where status in ('pending', 'running')`;
  return n;
}

/** A worker process with the no-op handlers, like \`mlmesh worker\`; resolves once it takes jobs. */
async function spawnWorker(): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [new URL("./noop-worker.js", import.meta.url).pathname], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      MLMESH_QUEUE_PREFIX: prefix,
      MLMESH_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      MLMESH_API_KEYS: apiKey,
      ADMIN_PORT: "0",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => b.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`bench worker exited with ${code} before it was ready`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function timed(seconds: number, body: (until: number) => Promise<number>): Promise<{ rate: number }> {
  const started = performance.now();
  const n = await body(started + seconds * 1000);
  return { rate: n / ((performance.now() - started) / 1000) };
}

/** Jobs per second from starting a worker until the queue is empty. */
async function drain(count: number, start: () => Promise<{ stop: () => Promise<void>; done: () => Promise<boolean> }>): Promise<number> {
  const started = performance.now();
  const w = await start();
  while (!(await w.done())) await sleep(20);
  const rate = count / ((performance.now() - started) / 1000);
  await w.stop();
  return rate;
}

/** Calls f at a steady rate (in ticks of 10 ms) for the given seconds, and waits for every call. */
async function paced(rate: number, seconds: number, f: () => Promise<unknown>): Promise<void> {
  const calls: Promise<unknown>[] = [];
  const perTick = rate / 100;
  const started = performance.now();
  for (let tick = 0; tick < seconds * 100; tick++) {
    for (let i = 0; i < perTick; i++) calls.push(f());
    const next = started + (tick + 1) * 10;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(calls);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
