import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope, type TestScope } from "../support/scope.js";

const prefix = `test-cli-${process.pid}`;
process.env.MLMESH_QUEUE_PREFIX = prefix;
let url: string;
let scope: TestScope;
let mesh: Mesh;

function mlmesh(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    env: { ...process.env, MLMESH_API_KEYS: TEST_KEY, MLMESH_QUEUE_PREFIX: prefix, ...scope.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, exited, output: () => stdout + stderr };
}

beforeAll(async () => {
  scope = await testScope();
  url = scope.databaseUrl;
  ({ mesh } = await startTestMesh([jobsAreaWith(jobHandlers)], scope.env));
}, 60_000);

afterAll(async () => {
  await mesh?.shutdown();
});

describe("mlmesh worker and mlmesh jobs watch", () => {
  it("runs a job in a worker process that `jobs watch` follows to the end; the worker reports health and metrics, and stops on SIGTERM", async () => {
    const worker = mlmesh(["worker", "--concurrency", "1"], {
      DATABASE_URL: url,
      ADMIN_PORT: "0",
      MLMESH_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    });
    await expect.poll(() => /"msg":"job worker started".*"adminPort":(\d+)/.test(worker.output()), { timeout: 150_000 }).toBe(true);
    const adminPort = Number(/"adminPort":(\d+)/.exec(worker.output())![1]);

    const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    const { job } = await client.submitInferenceJob(
      { task: InferenceTask.FORECAST_ALL_PRODUCTS },
      { headers: { authorization: `Bearer ${TEST_KEY}` } },
    );
    const watch = await mlmesh(["jobs", "watch", job!.jobId, "--addr", `127.0.0.1:${mesh.ports.grpc}`, "--key", TEST_KEY], {}).exited;
    expect(watch.stderr).toContain("completed");
    expect(watch.stdout).toContain(`${job!.jobId} completed`);
    expect(watch.code).toBe(0);

    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toMatch(/mlmesh_job_duration_seconds_count\{job_type="inference",kind="forecast_all_products",outcome="completed"\} 1/);
    expect(metrics).toMatch(/mlmesh_queue_jobs\{queue="inference",state="completed"\} 1/);

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  }, 240_000); // two CLI processes start here (tsx): a busy machine takes a while

  it("exits 1 from `jobs watch` for an unknown job, and 3 from a worker without DATABASE_URL", async () => {
    const watch = await mlmesh(
      ["jobs", "watch", "00000000-0000-4000-8000-000000000000", "--addr", `127.0.0.1:${mesh.ports.grpc}`, "--key", TEST_KEY],
      {},
    ).exited;
    expect(watch.code).toBe(1);
    expect(watch.stderr).toContain("NOT_FOUND");
    const worker = await mlmesh(["worker"], { DATABASE_URL: undefined }).exited;
    expect(worker.code).toBe(3);
    expect(worker.stderr).toContain("DATABASE_URL");
  }, 240_000); // two CLI processes here too

  it("serves the queue dashboard on the admin port behind the API keys", async () => {
    const base = `http://127.0.0.1:${mesh.ports.admin}/queues`;
    expect((await fetch(base)).status).toBe(401);
    const page = await fetch(base, { headers: { authorization: `Basic ${Buffer.from(`ops:${TEST_KEY}`).toString("base64")}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const api = await fetch(`${base}/api/queues`, { headers: { "x-api-key": TEST_KEY } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["training", "inference", "dead-letter"]));
  });
});
