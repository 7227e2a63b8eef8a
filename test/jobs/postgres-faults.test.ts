import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startPrivatePostgres, type PrivatePostgres } from "../fixtures/private-postgres.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { clearMeshCaches, TEST_REDIS_URL, testRedisPrefix } from "../support/scope.js";

// The job queue while its PostgreSQL (this file's own) is stopped and started again, with several
// worker processes: no job may spend its attempts on the outage, and none may be left pending or
// running once BullMQ is done with it. Nothing here asserts a time: the waits poll for a state, with
// bounds generous enough for a busy machine, so that a stuck job fails with the counts.

const prefix = testRedisPrefix();
const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pg: PrivatePostgres;
let env: Record<string, string>;
let mesh: Mesh;
let sql: postgres.Sql;
let redis: Redis;
let inference: Queue;
let client: Client<typeof JobQueueService>;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  pg = await startPrivatePostgres();
  const db = await openDatabase({ url: pg.url, dataDir: "" });
  try {
    await migrate(db.sql);
    await createFixtureTables(db.sql);
  } finally {
    await db.close();
  }
  await clearMeshCaches(prefix);
  env = {
    DATABASE_URL: pg.url,
    REDIS_URL: TEST_REDIS_URL,
    MLMESH_REDIS_PREFIX: prefix,
    MLMESH_QUEUE_PREFIX: prefix,
    MLMESH_JOB_BACKOFF_MS: "50",
    // One attempt: an attempt the outage spent fails the entry at once, so the test cannot miss one.
    MLMESH_JOB_ATTEMPTS: "1",
    MLMESH_JOB_LOCK_MS: "30000",
    MLMESH_JOB_STALLED_INTERVAL_MS: "1000",
    MLMESH_WORKER_CONCURRENCY: "4",
    // The first test is about the workers alone; the second starts a worker that reconciles often.
    MLMESH_JOB_RECONCILE_INTERVAL_MS: "600000",
  };
  Object.assign(process.env, env);
  ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], env));
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  // Reconnects on its own after the restart (postgres.js opens connections as queries need them).
  sql = postgres(pg.url, { max: 2, onnotice: () => undefined });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  inference = new Queue("inference", { connection: redis, prefix });
}, 180_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await mesh?.shutdown();
  await inference?.close();
  redis?.disconnect();
  await sql?.end({ timeout: 1 });
  await pg?.close();
  await clearMeshCaches(prefix);
});

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from jobs group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Polls until `done` holds of the value `read` gives, or the bound passes (no speed check: a bound for a stuck run); returns the last value. */
async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, boundMs: number): Promise<T> {
  const until = Date.now() + boundMs;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await sleep(250);
    value = await read();
  }
  return value;
}

/** Jobs PostgreSQL has not ended, each with its runs (job_executions) and its BullMQ entry as BullMQ sees it. */
async function unfinishedJobs(): Promise<Record<string, unknown>[]> {
  const rows = await sql<{ job_id: string; run: number; status: string; attempts: number; executions: number; effect: boolean }[]>`
    select j.job_id::text, j.run, j.status, j.attempts,
           (select count(*)::int from job_executions e where e.job_id = j.job_id) as executions,
           exists (select 1 from job_effects f where f.job_id = j.job_id) as effect
    from jobs j where j.status in ('pending', 'running') order by j.job_id`;
  return Promise.all(
    rows.map(async (r) => {
      // A submitted job's entry is "<job id>.<run>" (services/jobs/queues.ts).
      const entry = await inference.getJob(`${r.job_id}.${r.run}`);
      return {
        ...r,
        bullmq: entry
          ? {
              state: await entry.getState(),
              attemptsStarted: entry.attemptsStarted,
              attemptsMade: entry.attemptsMade,
              stalledCounter: entry.stalledCounter,
              failedReason: entry.failedReason,
              returnvalue: entry.returnvalue,
            }
          : "no entry",
      };
    }),
  );
}

const ended = (c: Record<string, number>) => (c.completed ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);

async function submitMany(n: number, parameters: Record<string, number>): Promise<Job[]> {
  const replies = await Promise.all(
    Array.from({ length: n }, () => client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters }, auth)),
  );
  return replies.map((r) => r.job!);
}

describe("the job queue while PostgreSQL restarts", () => {
  it("completes every job once when PostgreSQL is stopped and started mid-run under several workers", async () => {
    const N = 40;
    workers = await Promise.all([1, 2, 3].map(() => startWorkerProcess(env)));
    // Long enough (about a second each, 12 slots) that most jobs are still to run when PostgreSQL stops.
    await submitMany(N, { steps: 10, step_ms: 100 });
    const before = await pollUntil(statusCounts, (c) => (c.completed ?? 0) >= 1, 120_000);
    expect(before.completed ?? 0).toBeLessThan(N);

    await pg.stop();
    // Down until a worker has met the outage: an entry was put off (delayed) or, without the fix, failed
    // (one attempt each: nothing else makes an entry delayed or failed here).
    const met = await pollUntil(
      () => inference.getJobCounts("delayed", "failed"),
      (c) => c.delayed + c.failed > 0,
      120_000,
    );
    expect(met.delayed + met.failed).toBeGreaterThan(0);
    await pg.start();

    const counts = await pollUntil(statusCounts, (c) => ended(c) === N, 150_000);
    // A job left unfinished fails with what PostgreSQL and BullMQ each say of it, not the counts alone: which side
    // dropped it (BullMQ failed, active, delayed, or lost the entry) is what a rare failure has to tell.
    expect({ counts, unfinished: await unfinishedJobs() }).toEqual({ counts: { completed: N }, unfinished: [] });
    const [{ effects, distinct }] = await sql<{ effects: number; distinct: number }[]>`
      select count(*)::int as effects, count(distinct job_id)::int as distinct from job_effects`;
    expect({ effects, distinct }).toEqual({ effects: N, distinct: N });
    // BullMQ ended every entry as completed: none was failed by the outage. BullMQ hears of an end after PostgreSQL
    // (the worker records the outcome, then finishes the entry), and a run whose lock lapsed while PostgreSQL was down
    // may still hold its entry when another run has recorded the outcome: so its queue is read once it has settled.
    const queue = await pollUntil(
      () => inference.getJobCounts("failed", "waiting", "delayed", "active"),
      (c) => c.waiting + c.delayed + c.active === 0,
      60_000,
    );
    expect(queue).toEqual({
      failed: 0,
      waiting: 0,
      delayed: 0,
      active: 0,
    });
  }, 300_000);

  it("settles entries BullMQ failed while PostgreSQL was down: queued again, or dead-lettered when BullMQ gave them up", async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    workers = [];
    await sql`truncate jobs, job_effects, job_executions`;
    const jobs = await submitMany(4, { steps: 1, step_ms: 1 });

    // What BullMQ does with entries while PostgreSQL is down when nothing can record it: it fails them
    // (every attempt spent, or its workers kept dying on them: its own reason, matched by the reconciler).
    await pg.stop();
    const taker = new Worker("inference", null, { connection: redis.duplicate(), prefix, autorun: false });
    const reasons = ["connect ECONNREFUSED", "connect ECONNREFUSED", "connect ECONNREFUSED", "job stalled more than allowable limit"];
    const given: string[] = [];
    for (const reason of reasons) {
      const entry = await taker.getNextJob("test-token", { block: false });
      await entry!.moveToFailed(new UnrecoverableError(reason), "test-token");
      if (reason.startsWith("job stalled")) given.push(entry!.data.jobId);
    }
    await taker.close();
    expect(await inference.getJobCounts("failed")).toEqual({ failed: 4 });
    await pg.start();

    // As if that had been a minute ago: past the reconciler's quiet period.
    await sql`update jobs set updated_at = updated_at - interval '1 minute'`;
    workers = [await startWorkerProcess({ ...env, MLMESH_JOB_RECONCILE_INTERVAL_MS: "500" })];
    const counts = await pollUntil(statusCounts, (c) => ended(c) === jobs.length, 120_000);
    expect(counts).toEqual({ completed: 3, failed: 1 });
    const [gaveUp] = await sql<{ job_id: string; dead_lettered: boolean; error: string }[]>`
      select job_id::text, dead_lettered, error from jobs where status = 'failed'`;
    expect(gaveUp.job_id).toBe(given[0]);
    expect(gaveUp.dead_lettered).toBe(true);
    expect(gaveUp.error).toMatch(/given up/);
    const [{ effects }] = await sql<{ effects: number }[]>`select count(*)::int as effects from job_effects`;
    expect(effects).toBe(3);
  }, 300_000);
});
