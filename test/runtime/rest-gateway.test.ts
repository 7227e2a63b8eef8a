import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { compileTemplate } from "../../services/runtime/http-rules.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

const emptyJobsArea = async () => ({ service: JobQueueService, impl: {} });

describe("path templates", () => {
  it("compiles variables, wildcards and verbs", () => {
    const t = compileTemplate("/jobs/{job_id}:cancel");
    expect(t.variables).toEqual(["job_id"]);
    expect(t.regex.exec("/jobs/abc-1:cancel")?.[1]).toBe("abc-1");
    expect(t.regex.test("/jobs/abc-1")).toBe(false);
    const nested = compileTemplate("/v1/{name=shelves/*/books/*}");
    expect(nested.regex.exec("/v1/shelves/1/books/2")?.[1]).toBe("shelves/1/books/2");
    const status = compileTemplate("/jobs/{job_id}/status");
    expect(status.regex.exec("/jobs/j1/status")?.[1]).toBe("j1");
    expect(compileTemplate("/jobs/dead-letter").literalWeight).toBeGreaterThan(compileTemplate("/jobs/{job_id}").literalWeight);
  });
});

describe("REST gateway from the contract's google.api.http rules", () => {
  let mesh: Mesh;
  let base: string;
  const headers = { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` };

  beforeAll(async () => {
    ({ mesh } = await startTestMesh([slowForecastArea, emptyJobsArea]));
    base = `http://127.0.0.1:${mesh.ports.gateway}`;
  });
  afterAll(async () => {
    await mesh?.shutdown();
  });

  it("accepts the predecessor's request body and answers in snake_case with defaults printed", async () => {
    const res = await fetch(`${base}/forecast/demand`, {
      method: "POST",
      headers,
      body: JSON.stringify({ product_id: "uuid-string", horizon_days: 30, transaction_data: [{ date: "2024-01-01", quantity: 10 }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ product_id: "uuid-string", horizon_days: 30, cached: false, predictions: [] });
    expect(res.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it("keeps the predecessor's validation message, with HTTP 400 and a google.rpc.Status body", async () => {
    const res = await fetch(`${base}/forecast/demand`, {
      method: "POST",
      headers,
      body: JSON.stringify({ product_id: "p", horizon_days: 400 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.code).toBe(3);
    expect(body.message).toContain("horizon_days must be between 1 and 365");
  });

  it("maps statuses the way Envoy does", async () => {
    expect((await fetch(`${base}/forecast/demand`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(`${base}/forecast/demand`, { method: "POST", headers, body: "{not json" })).status).toBe(400);
    expect((await fetch(`${base}/forecast/demand`, { method: "POST", headers, body: JSON.stringify({ nope: 1 }) })).status).toBe(400);
    expect((await fetch(`${base}/no/such/path`, { headers })).status).toBe(404);
    expect((await fetch(`${base}/forecast/demand`, { headers })).status).toBe(405);
    const unbuilt = await fetch(`${base}/jobs/abc/status`, { headers });
    expect(unbuilt.status).toBe(501);
    expect(((await unbuilt.json()) as { code: number }).code).toBe(12);
  });

  it("binds query parameters and rejects unknown ones", async () => {
    const ok = await fetch(`${base}/jobs?status=JOB_STATUS_PENDING&page_size=10`, { headers });
    expect(ok.status).toBe(501); // valid request, JobQueue not built in this mesh
    const bad = await fetch(`${base}/jobs?colour=blue`, { headers });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("unknown query parameter: colour");
    const invalid = await fetch(`${base}/jobs?page_size=9999`, { headers });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { message: string }).message).toContain("page_size");
  });

  it("lists every binding of the contract", () => {
    const templates = mesh.gateway.bindings.map((b) => `${b.verb} ${b.template}`);
    expect(templates).toEqual(
      expect.arrayContaining([
        "POST /forecast/demand",
        "POST /predict/stockout",
        "POST /forecast/reorder-point",
        "GET /jobs/{job_id}/status",
        "GET /jobs",
        "POST /jobs/training",
        "POST /jobs/schedules",
        "GET /jobs/schedules",
        "DELETE /jobs/schedules/{name}",
      ]),
    );
  });
});
