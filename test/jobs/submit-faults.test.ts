import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, JobStatus, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import type { NewJob } from "../../services/jobs/job-store.js";
import { JobStore } from "../../services/jobs/job-store.js";
import { JobQueues } from "../../services/jobs/queues.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { JobSubmitter } from "../../services/jobs/submitter.js";
import { MeshError } from "../../services/runtime/errors.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { Status } from "../../services/runtime/status.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";
import { CleanupGuard, startRedis as startRedisServer, type RedisServer } from "../support/servers.js";

// Submits share one insert and one addBulk (services/jobs/submitter.ts). One bad submit must fail
// alone, and submits with one idempotency key must end as one job even when Redis fails between
// recording a job and queueing it. The Redis is this file's own: it is stopped.

let redisPort: number | undefined;
let baseDir: string;
let redis: RedisServer | undefined;
let guard: CleanupGuard;

async function startRedis(): Promise<void> {
  redis = await startRedisServer(mkdtempSync(join(baseDir, "redis-")), { port: redisPort, args: ["--maxmemory-policy", "noeviction"] });
  redisPort = redis.port;
  guard.watchRedis(redis.child.pid);
}

async function stopRedis(): Promise<void> {
  await redis?.stop();
  redis = undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };

let env: Record<string, string>;
let mesh: Mesh;
let sql: postgres.Sql;
let client: Client<typeof JobQueueService>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  baseDir = mkdtempSync(join(tmpdir(), "mlmesh-submit-faults-"));
  guard = new CleanupGuard(baseDir);
  await startRedis();
  const scope = await testScope();
  env = { ...scope.env, REDIS_URL: redis!.url, MLMESH_JOB_BACKOFF_MS: "50", MLMESH_WORKER_CONCURRENCY: "2" };
  Object.assign(process.env, env);
  ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], env));
  sql = postgres(scope.databaseUrl, { max: 2, onnotice: () => undefined });
  await createFixtureTables(sql);
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await mesh?.shutdown();
  await sql?.end();
  await stopRedis();
  rmSync(baseDir, { recursive: true, force: true });
  await guard?.finish();
});

function submit(parameters: Record<string, unknown>, idempotencyKey = ""): Promise<Job> {
  return client
    .submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: parameters as never, idempotencyKey }, auth)
    .then((r) => r.job!);
}

async function outcome<T>(p: Promise<T>): Promise<T | ConnectError> {
  return p.catch((err: unknown) => ConnectError.from(err));
}

/** An inference job as the submit RPCs would build it, `note` (if any) in its parameters. */
const job = (note?: string, idempotencyKey?: string): NewJob => ({
  jobType: "inference",
  kind: "score_candidates",
  parameters: note === undefined ? { steps: 1 } : { steps: 1, note },
  forcePromote: false,
  priority: 50,
  maxAttempts: 3,
  idempotencyKey,
  traceParent: "",
});
describe("submits", () => {
  it("refuse a NUL byte with INVALID_ARGUMENT for that submit alone; the rest of its group is queued", async () => {
    const bad = { key: "key\0nul", note: "a\0b" };
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => outcome(submit({ steps: 1, note: `good ${i}` }))),
      outcome(submit({ steps: 1 }, bad.key)),
      outcome(submit({ steps: 1, note: bad.note })),
      ...Array.from({ length: 8 }, (_, i) => outcome(submit({ steps: 1 }, `good-key-${i}`))),
    ]);
    const refused = results.filter((r) => r instanceof ConnectError);
    expect(refused.map((e) => [Code[e.code], e.rawMessage.split(":")[0]])).toEqual([
      ["InvalidArgument", "idempotency_key"],
      ["InvalidArgument", "parameters.note"],
    ]);
    const accepted = results.filter((r): r is Job => !(r instanceof ConnectError));
    expect(accepted).toHaveLength(16);
    const [{ n }] = await sql<
      { n: number }[]
    >`select count(*)::int as n from jobs where job_id = any(${accepted.map((j) => j.jobId)}::uuid[])`;
    expect(n).toBe(16);
  });

  it("a group PostgreSQL refuses is recorded job by job, so only the job it cannot store fails", async () => {
    // Past the RPC's own checks, as a value PostgreSQL refuses for a reason nothing checked would arrive.
    const jobs = new JobStore(mesh.db.sql);
    const queues = new JobQueues(redis!.url, loadJobsConfig(process.env));
    const submitter = new JobSubmitter(jobs, queues);
    try {
      // Submitted in one tick: one group, one insert.
      const results = await Promise.all(
        ["one", "two", "th\0ree", "four", "five"].map((note) => submitter.submit(job(note)).catch((err: unknown) => err)),
      );
      const refused = results.filter((r) => r instanceof MeshError);
      expect(refused.map((e) => e.code)).toEqual([Status.INVALID_ARGUMENT]);
      expect(results.filter((r) => !(r instanceof MeshError))).toHaveLength(4);
    } finally {
      await queues.close();
    }
  });

  it("queues a job only once its record is on disk: its insert commits synchronously, whatever the server's default", async () => {
    // This file's PostgreSQL runs with synchronous_commit=off (test/support/servers.ts), as an operator's could.
    // A worker's start does not wait for the disk (JobStore.start), so the submit's insert must: once createMany
    // resolves, the WAL is flushed past everything written before it began (its own commit among it). An
    // asynchronous commit leaves that to the WAL writer, a fraction of a second later.
    const [{ setting }] = await sql<{ setting: string }[]>`select setting from pg_settings where name = 'synchronous_commit'`;
    expect(setting).toBe("off");
    const store = new JobStore(mesh.db.sql);
    const note = `durable-${process.pid}`;
    for (let i = 0; i < 5; i++) {
      const [{ lsn }] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
      const created = await store.createMany([job(note), job(note)]);
      const [{ flushed }] = await sql<{ flushed: boolean }[]>`select pg_current_wal_flush_lsn() > ${lsn}::pg_lsn as flushed`;
      expect(created.map((c) => c.created)).toEqual([true, true]);
      expect(flushed).toBe(true);
    }
  });

  it("refuses a group whose insert fails for PostgreSQL going away, and queues nothing of it", async () => {
    class InsertFails extends JobStore {
      override async createMany(): Promise<never> {
        throw Object.assign(new Error("connection terminated"), { code: "57P01", name: "PostgresError" });
      }
    }
    const queues = new JobQueues(redis!.url, loadJobsConfig(process.env));
    const submitter = new JobSubmitter(new InsertFails(mesh.db.sql), queues);
    const entries = () => queues.queue("inference").getJobCountByTypes("wait", "prioritized", "active", "delayed");
    try {
      const before = await entries();
      const answers = await Promise.all(
        [submitter.submit(job()), submitter.submit(job(undefined, `gone-${process.pid}`))].map((p) => p.catch((e: unknown) => e)),
      );
      for (const answer of answers) {
        expect(answer).toBeInstanceOf(MeshError);
        expect((answer as MeshError).code).toBe(Status.UNAVAILABLE);
        expect((answer as MeshError).message).toContain("job history (PostgreSQL) is unavailable");
      }
      expect(await entries()).toBe(before);
    } finally {
      await queues.close();
    }
  });

  it("two submits with one idempotency key while Redis fails and recovers end as one job", async () => {
    const key = `race-${process.pid}`;
    await stopRedis();
    const first = outcome(submit({ steps: 1 }, key));
    // The second arrives while the first has recorded its job and is still finding Redis gone.
    const until = Date.now() + 60_000;
    while (Date.now() < until && (await sql`select 1 from jobs where idempotency_key = ${key}`).length === 0) await sleep(20);
    const second = outcome(submit({ steps: 1 }, key));
    const answers = await Promise.all([first, second]);
    await startRedis();
    // Clients retry what was refused as unavailable, with the same key, until it is taken.
    const ids: string[] = [];
    for (let answer of answers) {
      const retryUntil = Date.now() + 60_000;
      while (answer instanceof ConnectError && answer.code === Code.Unavailable && Date.now() < retryUntil) {
        await sleep(200);
        answer = await outcome(submit({ steps: 1 }, key));
      }
      if (answer instanceof ConnectError) throw answer;
      ids.push(answer.jobId);
    }
    expect(ids[1]).toBe(ids[0]);
    const rows = await sql<{ job_id: string }[]>`select job_id::text from jobs where idempotency_key = ${key}`;
    expect(rows.map((r) => r.job_id)).toEqual([ids[0]]);
    // And that one job is queued: a worker runs it.
    workers.push(await startWorkerProcess(env));
    let job = (await client.getJob({ jobId: ids[0] }, auth)).job!;
    const runUntil = Date.now() + 120_000;
    while (job.status !== JobStatus.COMPLETED && Date.now() < runUntil) {
      await sleep(200);
      job = (await client.getJob({ jobId: ids[0] }, auth)).job!;
    }
    expect(JobStatus[job.status]).toBe("COMPLETED");
  }, 300_000);
});
