import { createHash } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { handlerMap } from "../../services/jobs/handler.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

process.env.MLMESH_QUEUE_PREFIX = `test-scoped-keys-${process.pid}`;

const INFER_KEY = "infer-key-aaaaaaaaaaaaaaaa";
const JOBS_KEY = "jobs-key-bbbbbbbbbbbbbbbbbb";
const OPS_KEY = "ops-key-cccccccccccccccccccc";
const NEW_KEY = "rotated-key-dddddddddddddddd";
const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

const dir = mkdtempSync(join(tmpdir(), "mlmesh-keys-"));
const keyFile = join(dir, "keys.json");

/** Writes the key file as a Secret update does: a new file renamed over the old one. */
function writeKeys(entries: unknown): void {
  const next = join(dir, `.keys-${Date.now()}-${Math.random()}`);
  writeFileSync(next, typeof entries === "string" ? entries : JSON.stringify(entries));
  renameSync(next, keyFile);
}

const INITIAL = [
  { name: "travel-app", key: INFER_KEY, scopes: ["infer"] },
  { name: "batch", key: JOBS_KEY, scopes: ["jobs"] },
  { name: "ops", sha256: sha256(OPS_KEY), scopes: ["jobs", "admin"] },
];

/** Polls until `check` holds (a generous limit; no timing is asserted). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const limit = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > limit) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const NO_JOB = "00000000-0000-4000-8000-000000000000";

describe("scoped API keys", () => {
  let mesh: Mesh;
  let spans: InMemorySpanExporter;
  let grpcClient: RawGrpcClient;
  let logs = "";
  const write = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    writeKeys(INITIAL);
    // The mesh logs to stderr: keep a copy to check key names appear and keys never do.
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      logs += chunk.toString();
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    ({ mesh, spans } = await startTestMesh([slowForecastArea, jobsAreaWith(handlerMap([]))], {
      MLMESH_API_KEYS_FILE: keyFile,
      LOG_LEVEL: "info",
    }));
    grpcClient = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`);
  });
  afterAll(async () => {
    grpcClient?.close();
    await mesh?.shutdown();
    process.stderr.write = write;
    rmSync(dir, { recursive: true, force: true });
  });

  const grpcCall = async (method: "forecast" | "getJob" | "retryJob" | "forcePromote", key: string) => {
    const metadata = { authorization: `Bearer ${key}` };
    const call =
      method === "forecast"
        ? grpcClient.unary(ForecastService.method.forecastDemand, { productId: "p", horizonDays: 1 }, { metadata })
        : method === "getJob"
          ? grpcClient.unary(JobQueueService.method.getJob, { jobId: NO_JOB }, { metadata })
          : method === "retryJob"
            ? grpcClient.unary(JobQueueService.method.retryJob, { jobId: NO_JOB }, { metadata })
            : grpcClient.unary(JobQueueService.method.submitTrainingJob, { model: ModelKind.MATCH, forcePromote: true }, { metadata });
    return call.then(
      () => ({ code: 0, message: "" }),
      (err: grpc.ServiceError) => ({ code: err.code as number, message: err.details }),
    );
  };

  it("refuses a method outside the key's scopes on gRPC, naming the scope and the method", async () => {
    expect(await grpcCall("forecast", JOBS_KEY)).toEqual({
      code: Code.PermissionDenied,
      message: "this key lacks the scope 'infer' needed by mlmesh.forecast.v1.ForecastService/ForecastDemand",
    });
    expect(await grpcCall("getJob", INFER_KEY)).toEqual({
      code: Code.PermissionDenied,
      message: "this key lacks the scope 'jobs' needed by mlmesh.jobs.v1.JobQueueService/GetJob",
    });
    expect(await grpcCall("retryJob", JOBS_KEY)).toEqual({
      code: Code.PermissionDenied,
      message: "this key lacks the scope 'admin' needed by mlmesh.jobs.v1.JobQueueService/RetryJob",
    });
    expect(await grpcCall("forcePromote", JOBS_KEY)).toEqual({
      code: Code.PermissionDenied,
      message: "this key lacks the scope 'admin' needed by mlmesh.jobs.v1.JobQueueService/SubmitTrainingJob with force_promote=true",
    });
    // With the scope the call goes through to the method (which finds no job, or no training built here).
    expect((await grpcCall("forecast", INFER_KEY)).code).toBe(0);
    expect((await grpcCall("getJob", JOBS_KEY)).code).toBe(Code.NotFound);
    expect((await grpcCall("retryJob", OPS_KEY)).code).toBe(Code.NotFound);
    expect((await grpcCall("forcePromote", OPS_KEY)).code).toBe(Code.Unimplemented);
  });

  it("refuses the same on Connect", async () => {
    const transport = createConnectTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" });
    const forecast = createClient(ForecastService, transport);
    const jobs = createClient(JobQueueService, transport);
    const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    const denied = await forecast.forecastDemand({ productId: "p", horizonDays: 1 }, as(JOBS_KEY)).catch((e) => ConnectError.from(e));
    expect(denied).toBeInstanceOf(ConnectError);
    expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
    expect((denied as ConnectError).rawMessage).toBe(
      "this key lacks the scope 'infer' needed by mlmesh.forecast.v1.ForecastService/ForecastDemand",
    );
    const retry = await jobs.retryJob({ jobId: NO_JOB }, as(JOBS_KEY)).catch((e) => ConnectError.from(e));
    expect((retry as ConnectError).code).toBe(Code.PermissionDenied);
    expect((retry as ConnectError).rawMessage).toContain("'admin' needed by mlmesh.jobs.v1.JobQueueService/RetryJob");
    const force = await jobs
      .submitTrainingJob({ model: ModelKind.MATCH, forcePromote: true }, as(JOBS_KEY))
      .catch((e) => ConnectError.from(e));
    expect((force as ConnectError).code).toBe(Code.PermissionDenied);
    // A stream is refused the same way.
    const watch = async () => {
      for await (const _ of jobs.watchJob({ jobId: NO_JOB }, as(INFER_KEY))) break;
    };
    const watched = await watch().catch((e) => ConnectError.from(e));
    expect((watched as ConnectError).code).toBe(Code.PermissionDenied);
    expect((watched as ConnectError).rawMessage).toContain("'jobs' needed by mlmesh.jobs.v1.JobQueueService/WatchJob");
    expect((await forecast.forecastDemand({ productId: "p", horizonDays: 1 }, as(INFER_KEY))).productId).toBe("p");
  });

  it("refuses the same on REST, with HTTP 403 and a google.rpc.Status body", async () => {
    const rest = (path: string, key: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${mesh.ports.gateway}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const forecast = await rest("/forecast/demand", JOBS_KEY, { product_id: "p", horizon_days: 1 });
    expect(forecast.status).toBe(403);
    expect(await forecast.json()).toEqual({
      code: Code.PermissionDenied,
      message: "this key lacks the scope 'infer' needed by mlmesh.forecast.v1.ForecastService/ForecastDemand",
      details: [],
    });
    const status = await rest(`/jobs/${NO_JOB}/status`, INFER_KEY);
    expect(status.status).toBe(403);
    expect(((await status.json()) as { message: string }).message).toContain("'jobs'");
    const retry = await rest(`/jobs/${NO_JOB}:retry`, JOBS_KEY, {});
    expect(retry.status).toBe(403);
    const force = await rest("/jobs/training", JOBS_KEY, { model: "MODEL_KIND_MATCH", force_promote: true });
    expect(force.status).toBe(403);
    expect(((await force.json()) as { message: string }).message).toContain("force_promote");
    expect((await rest(`/jobs/${NO_JOB}/status`, JOBS_KEY)).status).toBe(404);
    expect((await rest("/forecast/demand", INFER_KEY, { product_id: "p", horizon_days: 1 })).status).toBe(200);
  });

  it("lets a legacy MLMESH_API_KEYS key do everything", async () => {
    expect((await grpcCall("forecast", TEST_KEY)).code).toBe(0);
    expect((await grpcCall("getJob", TEST_KEY)).code).toBe(Code.NotFound);
    expect((await grpcCall("retryJob", TEST_KEY)).code).toBe(Code.NotFound);
    expect((await grpcCall("forcePromote", TEST_KEY)).code).toBe(Code.Unimplemented);
  });

  it("guards the queue dashboard: looking needs jobs, acting needs admin", async () => {
    const admin = (method: string, path: string, key: string) =>
      fetch(`http://127.0.0.1:${mesh.ports.admin}${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from(`any:${key}`).toString("base64")}` },
      });
    expect((await admin("GET", "/queues", INFER_KEY)).status).toBe(403);
    expect((await admin("GET", "/queues", JOBS_KEY)).status).toBe(200);
    const write = await admin("PUT", "/queues/api/queues/training/retry/failed", JOBS_KEY);
    expect(write.status).toBe(403);
    expect(await write.text()).toContain("lacks the scope 'admin'");
    expect((await admin("PUT", "/queues/api/queues/training/retry/failed", OPS_KEY)).status).not.toBe(403);
    expect((await admin("GET", "/queues", "not-a-key-at-all-xxxxxxxx")).status).toBe(401);
  });

  it("counts and logs calls by key name, never the key", async () => {
    await grpcCall("retryJob", JOBS_KEY);
    const metrics = await (await fetch(`http://127.0.0.1:${mesh.ports.admin}/metrics`)).text();
    expect(metrics).toMatch(/mlmesh_api_key_requests_total\{key="batch",scope="admin",outcome="denied"\} [1-9]/);
    expect(metrics).toMatch(/mlmesh_api_key_requests_total\{key="travel-app",scope="infer",outcome="allowed"\} [1-9]/);
    expect(metrics).toMatch(/mlmesh_api_key_requests_total\{key="MLMESH_API_KEYS\[0\]",scope="admin",outcome="allowed"\} [1-9]/);
    expect(logs).toMatch(/"msg":"permission denied[^\n]*"key":"batch"/);
    expect(logs).toContain('"travel-app"');
    // One call, one count, whichever transport (REST checks the key before the body and again in the call).
    const allowedCount = async () => {
      const text = await (await fetch(`http://127.0.0.1:${mesh.ports.admin}/metrics`)).text();
      return Number(/mlmesh_api_key_requests_total\{key="travel-app",scope="infer",outcome="allowed"\} (\d+)/.exec(text)?.[1]);
    };
    const before = await allowedCount();
    const rest = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/forecast/demand`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${INFER_KEY}` },
      body: JSON.stringify({ product_id: "p", horizon_days: 1 }),
    });
    expect(rest.status).toBe(200);
    expect(await allowedCount()).toBe(before + 1);
    expect(spans.getFinishedSpans().some((span) => span.attributes["mlmesh.api_key"] === "travel-app")).toBe(true);
    for (const key of [INFER_KEY, JOBS_KEY, OPS_KEY, TEST_KEY, sha256(OPS_KEY)]) {
      expect(metrics).not.toContain(key);
      expect(logs).not.toContain(key);
    }
  });

  it("follows the key file without a restart, and keeps the old keys when the new file is bad", async () => {
    const accepted = async (key: string) => (await grpcCall("forecast", key)).code === 0;
    writeKeys([
      { name: "travel-app-2", key: NEW_KEY, scopes: ["infer"] },
      { name: "ops", sha256: sha256(OPS_KEY), scopes: ["jobs", "admin"] },
    ]);
    await until(async () => (await accepted(NEW_KEY)) && !(await accepted(INFER_KEY)), "the rotated key accepted and the old one refused");
    expect(await grpcCall("forecast", INFER_KEY)).toEqual({ code: Code.Unauthenticated, message: "invalid API key" });
    expect(await accepted(TEST_KEY)).toBe(true);

    // A corrupt file (or one with an unknown scope) is refused: the keys loaded before stay.
    for (const bad of ['[{"name": "x", "key": ', JSON.stringify([{ name: "x", key: INFER_KEY, scopes: ["everything"] }])]) {
      const before = logs.length;
      writeKeys(bad);
      await until(async () => logs.slice(before).includes("API key file not reloaded"), "the bad file logged");
      expect(await accepted(NEW_KEY)).toBe(true);
      expect(await accepted(INFER_KEY)).toBe(false);
    }
    expect(mesh.reloadKeys()).toBe(false);
    expect(await accepted(NEW_KEY)).toBe(true);

    writeKeys(INITIAL);
    expect(mesh.reloadKeys()).toBe(true);
    expect(await accepted(INFER_KEY)).toBe(true);
    expect(await accepted(NEW_KEY)).toBe(false);
  });
});
