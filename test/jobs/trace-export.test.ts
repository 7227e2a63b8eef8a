import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { createFixtureTables, fixtureHandlers } from "../fixtures/job-handlers.js";
import { startWorkerProcess, type WorkerProcess } from "../support/job-workers.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { OtlpReceiver } from "../support/otlp-receiver.js";
import { testScope, type TestScope } from "../support/scope.js";

const QUEUE_ENV = {
  MLMESH_QUEUE_PREFIX: `test-trace-export-${process.pid}`,
  MLMESH_JOB_LOCK_MS: "600000",
  MLMESH_JOB_STALLED_INTERVAL_MS: "1000",
};
// The in-process mesh's jobs area reads the queue settings from the process environment.
Object.assign(process.env, QUEUE_ENV);

// A batch delay no test outlasts: spans reach the receiver only through the flush at shutdown.
const FLUSH_ONLY = { OTEL_BSP_SCHEDULE_DELAY: "3600000" };

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;

let receiver: OtlpReceiver;
let scope: TestScope;
let mesh: Mesh | undefined;
let worker: WorkerProcess | undefined;
let sql: postgres.Sql;

beforeAll(async () => {
  receiver = await new OtlpReceiver().start();
  scope = await testScope();
  sql = postgres(scope.databaseUrl, { max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  if (worker?.child.exitCode === null) worker.child.kill("SIGKILL");
  await mesh?.shutdown();
  await sql?.end();
  await receiver?.close();
});

describe("traces exported over OTLP/HTTP", () => {
  it("follows one trace from a REST call through the mesh into a job and the worker that runs it", async () => {
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...FLUSH_ONLY };
    ({ mesh } = await startTestMesh([jobsAreaWith(fixtureHandlers)], {
      ...scope.env,
      ...otel,
      OTEL_SERVICE_NAME: "mesh-api-under-test",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=tracing-test,mlmesh.team=ml%20platform",
    }));
    await createFixtureTables(sql);
    worker = await startWorkerProcess({
      ...QUEUE_ENV,
      ...scope.env,
      ...otel,
      // service.name from the resource attributes this time: OTEL_SERVICE_NAME is not the only way to name it.
      OTEL_RESOURCE_ATTRIBUTES: "service.name=mesh-worker-under-test,deployment.environment=tracing-test",
    });

    const traceId = randomBytes(16).toString("hex");
    const clientSpanId = randomBytes(8).toString("hex");
    const base = `http://127.0.0.1:${mesh.ports.gateway}`;
    const res = await fetch(`${base}/jobs/training`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}`, traceparent: `00-${traceId}-${clientSpanId}-01` },
      body: JSON.stringify({ model: "MODEL_KIND_MATCH", parameters: { steps: 2, step_ms: 1 } }),
    });
    expect(res.status).toBe(200);
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    await expect
      .poll(async () => (await sql<{ status: string }[]>`select status from jobs where job_id = ${jobId}`)[0]?.status, {
        timeout: 120_000,
        interval: 200,
      })
      .toBe("completed");

    // Nothing is exported yet (the batch waits an hour): stopping each process must flush its spans.
    expect(receiver.trace(traceId)).toEqual([]);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    await mesh.shutdown();

    expect(receiver.refused).toEqual([]);
    const spans = receiver.trace(traceId);
    const submit = spans.find((s) => s.name === "mlmesh.jobs.v1.JobQueueService/SubmitTrainingJob");
    const run = spans.find((s) => s.name === "job training/match");
    expect(submit, JSON.stringify(receiver.spans)).toBeDefined();
    expect(run, JSON.stringify(receiver.spans)).toBeDefined();
    // client (traceparent) -> the mesh's SubmitTrainingJob span -> the worker's span for the job.
    expect(submit!.parentSpanId).toBe(clientSpanId);
    expect(submit!.kind).toBe(SPAN_KIND_SERVER);
    expect(submit!.attributes["mlmesh.transport"]).toBe("rest");
    expect(run!.parentSpanId).toBe(submit!.spanId);
    expect(run!.kind).toBe(SPAN_KIND_CONSUMER);
    expect(run!.attributes["mlmesh.job_id"]).toBe(jobId);
    // Each process says who it is, from its own environment.
    expect(submit!.resource).toMatchObject({
      "service.name": "mesh-api-under-test",
      "deployment.environment": "tracing-test",
      "mlmesh.team": "ml platform",
      "telemetry.sdk.language": "nodejs",
    });
    expect(run!.resource).toMatchObject({ "service.name": "mesh-worker-under-test", "deployment.environment": "tracing-test" });
  }, 300_000); // starts a worker process: slow on a busy machine

  it("mlmesh serve flushes its spans at SIGTERM and still exits 0 by itself", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "serve"], {
      env: {
        ...process.env,
        GRPC_PORT: "0",
        CONNECT_PORT: "0",
        ADMIN_PORT: "0",
        GATEWAY_PORT: "0",
        MLMESH_HOST: "127.0.0.1",
        MLMESH_API_KEYS: TEST_KEY,
        ...(await testScope("serve")).env,
        LOG_LEVEL: "info",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "mlmesh-serve-under-test",
        ...FLUSH_ONLY,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const started = () => stderr.split("\n").find((line) => line.includes('"msg":"mesh started"'));
      await expect.poll(() => started() !== undefined || child.exitCode !== null, { timeout: 150_000, interval: 100 }).toBe(true);
      expect(started(), stderr).toBeDefined();
      const { connect } = (JSON.parse(started()!) as { ports: { connect: number } }).ports;
      const traceId = randomBytes(16).toString("hex");
      const res = await fetch(`http://127.0.0.1:${connect}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` },
        body: "{}",
      });
      expect(res.status).toBe(200);
      child.kill("SIGTERM");
      // The exporter's keep-alive connection must not hold the process open: it ends by itself, not by process.exit.
      expect(await exited, stderr).toBe(0);
      expect(receiver.trace(traceId).map((s) => [s.name, s.resource["service.name"]])).toEqual([
        ["grpc.health.v1.Health/Check", "mlmesh-serve-under-test"],
      ]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 300_000);
});
