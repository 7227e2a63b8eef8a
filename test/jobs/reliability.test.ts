import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { Random } from "../../services/numeric/random.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";
import { CleanupGuard, startRedis as startRedisServer, type RedisServer } from "../support/servers.js";

// A Redis of our own: these tests kill it. It binds a port of its choosing at first, and that port again on restarts.
let redisPort: number | undefined;
let baseDir: string;
let redisDir: string;
let redis: RedisServer | undefined;
let guard: CleanupGuard;

async function startRedis(): Promise<void> {
  redis = await startRedisServer(redisDir, { port: redisPort, args: ["--appendonly", "yes", "--maxmemory-policy", "noeviction"] });
  redisPort = redis.port;
  guard.watchRedis(redis.child.pid);
}

async function stopRedis(): Promise<void> {
  await redis?.stop(); // SIGTERM: AOF is flushed on shutdown, as a restarted production Redis would have it
  redis = undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: Record<string, string>;
let mesh: Mesh;
let sql: postgres.Sql;
let client: Client<typeof JobQueueService>;
let workers: WorkerProcess[] = [];
const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };

beforeAll(async () => {
  baseDir = mkdtempSync(join(tmpdir(), "mlmesh-reliability-"));
  guard = new CleanupGuard(baseDir); // stops our redis-server should this process die before afterAll
  redisDir = mkdtempSync(join(baseDir, "redis-"));
  await startRedis();
  const scope = await testScope();
  const databaseUrl = scope.databaseUrl;
  env = {
    ...scope.env,
    REDIS_URL: redis!.url,
    MLMESH_QUEUE_PREFIX: "reliability",
    MLMESH_JOB_BACKOFF_MS: "50",
    MLMESH_JOB_LOCK_MS: "1500",
    MLMESH_JOB_STALLED_INTERVAL_MS: "750",
    MLMESH_JOB_ATTEMPTS: "5",
    MLMESH_WORKER_CONCURRENCY: "4",
  };
  Object.assign(process.env, env);
  ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], env));
  sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
  await createFixtureTables(sql);
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await mesh?.shutdown();
  await sql?.end();
  await stopRedis();
  rmSync(baseDir, { recursive: true, force: true });
  await guard?.finish();
});

async function submitMany(n: number, random: Random): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () =>
      client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { steps: random.int(1, 4), step_ms: 20 } }, auth),
    );
    jobs.push(...(await Promise.all(batch)).map((r) => r.job!));
  }
  return jobs;
}

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from jobs group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Polls until every job has ended, and returns the counts. `timeoutMs` is no speed check (a busy machine restarts
 * SIGKILLed workers slowly), only a generous bound so that a stuck job fails with the counts, not a bare timeout.
 */
async function waitUntilAllEnded(total: number, timeoutMs: number): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  let counts = await statusCounts();
  while (Date.now() < until && (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) < total) {
    await sleep(250);
    counts = await statusCounts();
  }
  return counts;
}

describe("the job queue under faults", () => {
  it("loses and duplicates nothing while workers are SIGKILLed at random and restarted", async () => {
    const random = new Random(7);
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(env)));
    const jobs = await submitMany(300, random);
    let kills = 0;
    const chaos = (async () => {
      while (kills < 6) {
        await sleep(random.int(400, 900));
        const victim = random.int(0, workers.length - 1);
        workers[victim].child.kill("SIGKILL");
        await workers[victim].exited;
        kills++;
        workers[victim] = await startWorkerProcess(env);
      }
    })();
    await chaos;
    const counts = await waitUntilAllEnded(jobs.length, 200_000);
    expect(counts).toEqual({ completed: 300 });
    const [{ effects, distinct }] = await sql<{ effects: number; distinct: number }[]>`
      select count(*)::int as effects, count(distinct job_id)::int as distinct from job_effects`;
    expect(effects).toBe(300);
    expect(distinct).toBe(300);
    const [{ runs }] = await sql<{ runs: number }[]>`select count(*)::int as runs from job_executions`;
    expect(runs).toBeGreaterThanOrEqual(300);
  }, 300_000);

  it("refuses submits with UNAVAILABLE while Redis is down, then carries on when it returns", async () => {
    await sql`truncate jobs, job_effects, job_executions`;
    const before = await submitMany(60, new Random(11));
    await stopRedis();
    // Refused while Redis is still down (it is restarted only after this call returns), not held until it is back.
    let refused: ConnectError | undefined;
    try {
      await client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { steps: 1 } }, auth);
    } catch (err) {
      refused = ConnectError.from(err);
    }
    expect(refused?.code).toBe(Code.Unavailable);
    // Nothing half-submitted: the refused job left no record behind (the record goes before the refusal is answered).
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from jobs`;
    expect(n).toBe(before.length);
    await startRedis();
    const after = await submitMany(60, new Random(12));
    const counts = await waitUntilAllEnded(before.length + after.length, 200_000);
    expect(counts).toEqual({ completed: 120 });
    const [{ effects }] = await sql<{ effects: number }[]>`select count(*)::int as effects from job_effects`;
    expect(effects).toBe(120);
  }, 300_000);

  it("queues again what PostgreSQL holds when Redis comes back without its data, and runs each job once", async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    workers = [];
    await sql`truncate jobs, job_effects, job_executions`;
    const jobs = await submitMany(60, new Random(13));
    // Redis restarts with nothing: its append-only file is gone.
    await stopRedis();
    rmSync(redisDir, { recursive: true, force: true });
    redisDir = mkdtempSync(join(baseDir, "redis-"));
    await startRedis();
    // Past the reconciler's quiet period, as if the outage had lasted a minute.
    await sql`update jobs set updated_at = updated_at - interval '1 minute'`;
    workers = [await startWorkerProcess({ ...env, MLMESH_JOB_RECONCILE_INTERVAL_MS: "500" })];
    const counts = await waitUntilAllEnded(jobs.length, 200_000);
    expect(counts).toEqual({ completed: 60 });
    const [{ effects, distinct }] = await sql<{ effects: number; distinct: number }[]>`
      select count(*)::int as effects, count(distinct job_id)::int as distinct from job_effects`;
    expect(effects).toBe(60);
    expect(distinct).toBe(60);
  }, 300_000);
});
