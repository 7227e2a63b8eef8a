import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, JobStatus, JobType, ModelKind, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope, type TestScope } from "../support/scope.js";

const QUEUE_ENV = {
  MLMESH_QUEUE_PREFIX: `test-jobs-${process.pid}`,
  MLMESH_JOB_BACKOFF_MS: "50",
  // A lock no busy machine outlasts: a lost lock re-runs a job, and these tests count executions exactly.
  // Nothing here waits for a lock to expire (workers stop with SIGTERM and hand their jobs back).
  MLMESH_JOB_LOCK_MS: "600000",
  MLMESH_JOB_STALLED_INTERVAL_MS: "1000",
  MLMESH_WORKER_CONCURRENCY: "2",
};
Object.assign(process.env, QUEUE_ENV);

let mesh: Mesh;
let sql: postgres.Sql;
let databaseUrl: string;
let scope: TestScope;
let client: Client<typeof JobQueueService>;
const workers: WorkerProcess[] = [];
const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };

async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const w = await startWorkerProcess({ ...QUEUE_ENV, ...scope.env, ...env });
  workers.push(w);
  return w;
}

/** A running worker: the one an earlier test left, or a new one, so each test that needs one stands on its own. */
async function aWorker(): Promise<void> {
  if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await startWorker();
}

async function stopWorker(w: WorkerProcess): Promise<number | null> {
  w.child.kill("SIGTERM");
  return w.exited;
}

/** Follows the job through WatchJob until it ends; returns every state seen. */
async function watchToEnd(jobId: string): Promise<Job[]> {
  const seen: Job[] = [];
  for await (const { job } of client.watchJob({ jobId }, { ...auth, timeoutMs: 30_000 })) seen.push(job!);
  return seen;
}

async function submit(parameters: Record<string, unknown>, extra: { priority?: number; idempotencyKey?: string } = {}): Promise<Job> {
  const res = await client.submitTrainingJob({ model: ModelKind.MATCH, parameters: parameters as never, ...extra }, auth);
  return res.job!;
}

async function executions(jobId: string): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from job_executions where job_id = ${jobId}`;
  return n;
}

async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  scope = await testScope();
  databaseUrl = scope.databaseUrl;
  ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], scope.env));
  sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
  await createFixtureTables(sql);
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
});

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  await mesh?.shutdown();
  await sql?.end();
});

describe("JobQueueService", () => {
  it("cancels a pending job before any worker takes it, and refuses bad submits with the field and rule", async () => {
    const job = await submit({ steps: 1 });
    expect(job.status).toBe(JobStatus.PENDING);
    expect(job.maxAttempts).toBe(3);
    const cancelled = (await client.cancelJob({ jobId: job.jobId }, auth)).job!;
    expect(cancelled.status).toBe(JobStatus.CANCELLED);

    const unspecified = await rpcError(client.submitTrainingJob({ model: ModelKind.UNSPECIFIED }, auth));
    expect(unspecified.code).toBe(Code.InvalidArgument);
    expect(unspecified.rawMessage).toContain("model");
    const unknown = await rpcError(client.submitTrainingJob({ model: ModelKind.MATCH, parameters: { stepz: 1 } }, auth));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(unknown.rawMessage).toContain("parameters.stepz");
    const badValue = await rpcError(client.submitTrainingJob({ model: ModelKind.MATCH, parameters: { steps: -1 } }, auth));
    expect(badValue.rawMessage).toContain("parameters.steps");
    const priority = await rpcError(client.submitTrainingJob({ model: ModelKind.MATCH, priority: 101 }, auth));
    expect(priority.code).toBe(Code.InvalidArgument);
    const unbuilt = await rpcError(client.submitTrainingJob({ model: ModelKind.NOTIFY }, auth));
    expect(unbuilt.code).toBe(Code.Unimplemented);
    const missing = await rpcError(client.getJob({ jobId: "00000000-0000-4000-8000-000000000000" }, auth));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.rawMessage).toContain("00000000-0000-4000-8000-000000000000");
    const token = await rpcError(client.listJobs({ pageToken: "not-a-token" }, auth));
    expect(token.code).toBe(Code.InvalidArgument);
    const forged = Buffer.from(JSON.stringify({ v: 1, after: "-".repeat(36) })).toString("base64url");
    expect((await rpcError(client.listJobs({ pageToken: forged }, auth))).code).toBe(Code.InvalidArgument);
  });

  it("runs a job to completion in a worker process, streaming every state until it ends", async () => {
    await aWorker();
    const job = await submit({ steps: 5, step_ms: 300 });
    const seen = await watchToEnd(job.jobId);
    const last = seen[seen.length - 1];
    expect(last.status).toBe(JobStatus.COMPLETED);
    expect(last.progressPercent).toBe(100);
    expect(last.attempts).toBe(1);
    expect(last.result).toMatchObject({ steps: 5, execution: 1 });
    expect(seen.some((j) => j.status === JobStatus.RUNNING && j.progressPercent > 0 && j.progressPercent < 100)).toBe(true);
    // Watching an ended job gives its state once, then the stream closes.
    const again = await watchToEnd(job.jobId);
    expect(again.map((j) => j.status)).toEqual([JobStatus.COMPLETED]);
    // The worker's span belongs to the submitting call's trace.
    const traceparent = (await sql<{ trace_parent: string }[]>`select trace_parent from jobs where job_id = ${job.jobId}`)[0].trace_parent;
    expect(traceparent.split("-")[1]).toBe((last.result as { trace_id: string }).trace_id);
  }, 180_000); // starts a worker process: slow on a busy machine

  it("returns the first job for a retried submit with the same idempotency key", async () => {
    await aWorker();
    const key = `key-${Date.now()}`;
    const [a, b] = await Promise.all([submit({ steps: 1 }, { idempotencyKey: key }), submit({ steps: 1 }, { idempotencyKey: key })]);
    expect(b.jobId).toBe(a.jobId);
    expect((await watchToEnd(a.jobId)).at(-1)!.status).toBe(JobStatus.COMPLETED);
    expect(await executions(a.jobId)).toBe(1);
  });

  it("retries with backoff, dead-letters after the last attempt, and re-queues from the dead-letter list", async () => {
    await aWorker();
    const job = await submit({ steps: 1, step_ms: 1, fail_attempts: 3 });
    const failed = (await watchToEnd(job.jobId)).at(-1)!;
    expect(failed.status).toBe(JobStatus.FAILED);
    expect(failed.deadLettered).toBe(true);
    expect(failed.attempts).toBe(3);
    expect(failed.error).toContain("planned failure 3");
    const dead = (await client.listDeadLetterJobs({}, auth)).jobs.map((j) => j.jobId);
    expect(dead).toContain(job.jobId);

    const retried = (await client.retryJob({ jobId: job.jobId }, auth)).job!;
    expect(retried.status).toBe(JobStatus.PENDING);
    expect(retried.deadLettered).toBe(false);
    const done = (await watchToEnd(job.jobId)).at(-1)!;
    expect(done.status).toBe(JobStatus.COMPLETED);
    expect(done.attempts).toBe(1);
    expect(await executions(job.jobId)).toBe(4);
    expect((await client.listDeadLetterJobs({}, auth)).jobs.map((j) => j.jobId)).not.toContain(job.jobId);
    expect((await rpcError(client.retryJob({ jobId: job.jobId }, auth))).code).toBe(Code.FailedPrecondition);
  });

  it("cancels a running job in another process through its abort signal", async () => {
    await aWorker();
    const job = await submit({ steps: 200, step_ms: 50 });
    // Until the worker's run of it is under way: it reported progress, and its execution is recorded (a status of
    // RUNNING alone is written before the job's code starts). However long a busy machine takes (bounded only to
    // fail before the test times out).
    await expect
      .poll(async () => (await client.getJob({ jobId: job.jobId }, auth)).job!.progressPercent, { timeout: 50_000, interval: 50 })
      .toBeGreaterThan(0);
    const before = (await client.getJob({ jobId: job.jobId }, auth)).job!;
    expect(before.status).toBe(JobStatus.RUNNING);
    expect(await executions(job.jobId)).toBe(1);
    const res = (await client.cancelJob({ jobId: job.jobId }, auth)).job!;
    expect(res.status).toBe(JobStatus.CANCELLED);
    expect(res.progressPercent).toBeLessThan(100);
    // The run stopped on its abort signal (or else wrote its effect at the end of its 200 steps): wait for either,
    // then require the first. A record marked cancelled while the job's code ran on would end the other way.
    const ended = async () =>
      (
        await sql<{ aborted: boolean; effect: boolean }[]>`
          select exists (select 1 from job_executions where job_id = ${job.jobId} and aborted_at is not null) as aborted,
                 exists (select 1 from job_effects where job_id = ${job.jobId}) as effect`
      )[0];
    await expect.poll(async () => Object.values(await ended()).some(Boolean), { timeout: 50_000, interval: 50 }).toBe(true);
    expect(await ended()).toEqual({ aborted: true, effect: false });
    expect(await executions(job.jobId)).toBe(1);
    expect((await client.getJob({ jobId: job.jobId }, auth)).job!.status).toBe(JobStatus.CANCELLED);
    expect((await rpcError(client.cancelJob({ jobId: (await submitDone()).jobId }, auth))).code).toBe(Code.FailedPrecondition);
  });

  it("lists newest first with filters and stable page tokens", async () => {
    // Jobs of its own, two of them cancelled (while queued or under way, whichever they are by then).
    const own = [await submit({ steps: 200, step_ms: 50 }), await submit({ steps: 200, step_ms: 50 }), await submit({ steps: 1 })];
    for (const job of own.slice(0, 2)) expect((await client.cancelJob({ jobId: job.jobId }, auth)).job!.status).toBe(JobStatus.CANCELLED);
    const all: Job[] = [];
    let pageToken = "";
    do {
      const page = await client.listJobs({ pageSize: 2, pageToken, jobType: JobType.TRAINING }, auth);
      all.push(...page.jobs);
      pageToken = page.nextPageToken;
    } while (pageToken);
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from jobs where job_type = 'training'`;
    expect(all.length).toBe(n);
    expect(new Set(all.map((j) => j.jobId)).size).toBe(n);
    const times = all.map((j) => Number(j.createdAt!.seconds) * 1e3 + j.createdAt!.nanos / 1e6);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.map((j) => j.jobId)).toEqual(expect.arrayContaining(own.map((j) => j.jobId)));
    const cancelled = await client.listJobs({ status: JobStatus.CANCELLED }, auth);
    expect(cancelled.jobs.map((j) => j.jobId)).toEqual(expect.arrayContaining(own.slice(0, 2).map((j) => j.jobId)));
    expect(cancelled.jobs.every((j) => j.status === JobStatus.CANCELLED)).toBe(true);
    expect((await client.listJobs({ jobType: JobType.INFERENCE }, auth)).jobs).toEqual([]);
  });

  it("hands a running job back at SIGTERM without spending an attempt; another worker finishes it", async () => {
    for (const w of workers.splice(0)) await stopWorker(w);
    const w = await startWorker({ MLMESH_SHUTDOWN_GRACE_MS: "300" });
    const job = await submit({ steps: 20, step_ms: 100 });
    // Until the job is under way in the worker, however long a busy machine takes.
    await expect
      .poll(async () => (await client.getJob({ jobId: job.jobId }, auth)).job!.progressPercent, { timeout: 50_000, interval: 50 })
      .toBeGreaterThanOrEqual(5);
    expect(await stopWorker(w)).toBe(0);
    const handedBack = (await client.getJob({ jobId: job.jobId }, auth)).job!;
    expect(handedBack.status).toBe(JobStatus.PENDING);
    expect(handedBack.attempts).toBe(0);
    await startWorker();
    const done = (await watchToEnd(job.jobId)).at(-1)!;
    expect(done.status).toBe(JobStatus.COMPLETED);
    expect(done.attempts).toBe(1);
    expect(await executions(job.jobId)).toBe(2);
  }, 180_000); // stops one worker process and starts another: slow on a busy machine

  it("refuses inference tasks that are not built, naming them", async () => {
    const err = await rpcError(client.submitInferenceJob({ task: InferenceTask.PRECOMPUTE_RECOMMENDATIONS }, auth));
    expect(err.code).toBe(Code.Unimplemented);
    expect(err.rawMessage).toContain("precompute_recommendations");
  });
});

async function submitDone(): Promise<Job> {
  const job = await submit({ steps: 1, step_ms: 1 });
  await watchToEnd(job.jobId);
  return job;
}
