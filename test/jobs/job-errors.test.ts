import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InferenceTask, JobQueueService, JobStatus, ModelKind, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { handlerMap, type JobHandler } from "../../services/jobs/handler.js";
import { checkKnown } from "../../services/jobs/parameters.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { startJobWorker, type RunningWorker } from "../../services/jobs/worker-process.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

// A failed job's `error` is read by clients (GetJob, ListJobs, WatchJob): it
// carries what our own code meant to say, and never SQL, a file path or a
// stack trace; the worker's log has the full error.

const QUEUE_ENV = { MLMESH_QUEUE_PREFIX: `test-job-errors-${process.pid}`, MLMESH_JOB_ATTEMPTS: "1" };
Object.assign(process.env, QUEUE_ENV);

const failures: Record<string, () => Error> = {
  plain: () => new Error("no destinations in the database: run `mlmesh seed` first"),
  path: () =>
    Object.assign(new Error("ENOENT: no such file or directory, open '/var/lib/mlmesh/models/match-7.onnx'"), {
      code: "ENOENT",
      path: "/var/lib/mlmesh/models/match-7.onnx",
    }),
  stack: () => new Error(`model load failed\n    at loadEntry (/app/services/match/serving-model.js:71:11)`),
  bug: () => new TypeError("Cannot read properties of undefined (reading 'artefact')"),
};

/** Training jobs run a broken query; inference jobs throw the error their `fail` parameter names. */
const handlers = handlerMap([
  {
    jobType: "training",
    kind: "match",
    checkParameters: () => undefined,
    run: async (ctx) => {
      await ctx.sql`select artefact from no_such_table_for_jobs where model = ${"match"}`;
      return {};
    },
  } satisfies JobHandler,
  {
    jobType: "inference",
    kind: "score_candidates",
    checkParameters: (p) => checkKnown(p, { fail: (v) => (typeof v === "string" && v in failures ? undefined : "unknown failure") }),
    run: async (ctx) => {
      throw failures[ctx.job.parameters.fail as string]();
    },
  } satisfies JobHandler,
]);

const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };
let mesh: Mesh;
let worker: RunningWorker;
let client: Client<typeof JobQueueService>;
const logged: string[] = [];

async function ended(job: Job): Promise<Job> {
  let last = job;
  for await (const { job: seen } of client.watchJob({ jobId: job.jobId }, auth)) last = seen!;
  return last;
}

beforeAll(async () => {
  const started = await startTestMesh([jobsAreaWith(handlers)], QUEUE_ENV);
  mesh = started.mesh;
  worker = await startJobWorker({
    config: started.config,
    jobs: loadJobsConfig(),
    db: mesh.db,
    handlers,
    metrics: mesh.metrics,
    openAdmin: false,
  });
  client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  vi.spyOn(process.stderr, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await worker?.shutdown();
  await mesh?.shutdown();
});

describe("a failed job's error", () => {
  it("is a generic message for a database error, with the SQL and the relation only in the worker's log", async () => {
    const { job } = await client.submitTrainingJob({ model: ModelKind.MATCH }, auth);
    const failed = await ended(job!);
    expect(failed.status).toBe(JobStatus.FAILED);
    expect(failed.error).not.toMatch(/no_such_table|relation|select|artefact/i);
    expect(failed.error).toContain("internal error");
    expect(failed.error).toContain(job!.jobId);
    // The same text in every read path.
    expect((await client.getJob({ jobId: job!.jobId }, auth)).job!.error).toBe(failed.error);
    const listed = (await client.listDeadLetterJobs({}, auth)).jobs.find((j) => j.jobId === job!.jobId);
    expect(listed?.error).toBe(failed.error);
    expect(logged.some((line) => line.includes(job!.jobId) && line.includes('relation \\"no_such_table_for_jobs\\" does not exist'))).toBe(
      true,
    );
  });

  it.each([
    ["path", /\/var\/lib|ENOENT|onnx/],
    ["stack", /serving-model|\/app\/|:71:|\bat\b/],
    ["bug", /Cannot read|undefined|artefact/],
  ])("hides a %s", async (kind, internal) => {
    const { job } = await client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { fail: kind } }, auth);
    const failed = await ended(job!);
    expect(failed.status).toBe(JobStatus.FAILED);
    expect(failed.error).not.toMatch(internal);
    expect(failed.error).toContain("internal error");
  });

  it("keeps what our own code meant to say", async () => {
    const { job } = await client.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { fail: "plain" } }, auth);
    const failed = await ended(job!);
    expect(failed.error).toBe("no destinations in the database: run `mlmesh seed` first");
  });
});
