import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueueService, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { seedTravellers } from "../../services/match/seed.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

// A training fit that runs for several lock periods: short locks, a quick stalled-job check, and two
// workers, so a job whose lock lapsed would be taken by the other worker and fitted again.
const LOCK_MS = 1000;
const FIT_MS = 5 * LOCK_MS;

let db: Database;
let mesh: Mesh;
let workers: WorkerProcess[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  const scope = await testScope();
  env = {
    ...scope.env,
    MLMESH_QUEUE_PREFIX: `test-training-lock-${process.pid}`,
    MLMESH_JOB_LOCK_MS: String(LOCK_MS),
    MLMESH_JOB_STALLED_INTERVAL_MS: "500",
    SLOW_FIT_MS: String(FIT_MS),
  };
  Object.assign(process.env, env);
  db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: 1000, seed: 41 });
  await db.sql`create table fit_runs (at timestamptz not null default clock_timestamp())`;
  ({ mesh } = await startTestMesh([jobsAreaWith(jobHandlers)], env));
  workers = await Promise.all([1, 2].map(() => startWorkerProcess(env, "test/fixtures/training-worker.ts")));
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await mesh?.shutdown();
  await db?.close();
});

describe("a training job whose fit outlasts the job's lock", () => {
  it("fits once: the fit runs on a thread and the worker keeps renewing the lock", async () => {
    const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    const { job } = await client.submitTrainingJob({ model: ModelKind.MATCH }, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    await expect
      .poll(async () => (await db.sql<{ status: string }[]>`select status from jobs where job_id = ${job!.jobId}`)[0]?.status, {
        timeout: 90_000,
        interval: 250,
      })
      .toMatch(/completed|failed|cancelled/);
    const [record] = await db.sql<{ status: string; attempts: number; result: { version?: number } }[]>`
      select status, attempts, result from jobs where job_id = ${job!.jobId}`;
    expect(record.status).toBe("completed");
    const [{ runs }] = await db.sql<{ runs: number }[]>`select count(*)::int as runs from fit_runs`;
    expect(runs).toBe(1);
    const [{ versions }] = await db.sql<{ versions: number }[]>`select count(*)::int as versions from model_versions where model = 'match'`;
    expect(versions).toBe(1);
    expect(record.attempts).toBe(1);
  }, 120_000);
});
