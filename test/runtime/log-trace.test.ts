import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { AreaFactory } from "../../services/runtime/area.js";
import { MeshError } from "../../services/runtime/errors.js";
import type { ServiceImpl } from "../../services/runtime/handler.js";
import { log } from "../../services/runtime/log.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

// A contract whose handlers log from deep inside the call, after awaits, as storage and model code do.
const impl: ServiceImpl<typeof JobQueueService> = {
  getJob: async (req) => {
    await sleep(5);
    await Promise.resolve().then(() => log.warn("looked for a job", { marker: `get-${req.jobId}` }));
    throw MeshError.notFound(`job ${req.jobId} not found`);
  },
  watchJob: async function* (req) {
    await sleep(5);
    log.warn("watching a job", { marker: `watch-${req.jobId}` });
    yield { job: { jobId: req.jobId } };
    await sleep(5);
    log.warn("watched a job", { marker: `watched-${req.jobId}` });
  },
};
const loggingArea: AreaFactory = async () => ({ service: JobQueueService, impl });

let mesh: Mesh;
let spans: InMemorySpanExporter;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  ({ mesh, spans } = await startTestMesh([loggingArea]));
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    for (const line of String(chunk).split("\n")) {
      try {
        if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not one of our log lines.
      }
    }
    return write(chunk, ...rest);
  }) as typeof process.stderr.write);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await mesh?.shutdown();
});

const lineWith = (marker: string) => lines.find((l) => l.marker === marker);

describe("log lines and traces", () => {
  it("a line written inside a call carries that call's trace_id and span_id", async () => {
    const traceId = randomBytes(16).toString("hex");
    const clientSpanId = randomBytes(8).toString("hex");
    const res = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/jobs/j-rest/status`, {
      headers: { authorization: `Bearer ${TEST_KEY}`, traceparent: `00-${traceId}-${clientSpanId}-01` },
    });
    expect(res.status).toBe(404);
    // The call's span, as the response's traceparent names it: a child of the client's.
    const [, responseTrace, callSpanId] = res.headers.get("traceparent")!.split("-");
    expect(responseTrace).toBe(traceId);
    expect(callSpanId).not.toBe(clientSpanId);
    expect(lineWith("get-j-rest")).toMatchObject({ msg: "looked for a job", trace_id: traceId, span_id: callSpanId });

    // A call with no traceparent gets a trace of its own, and its lines carry it.
    await fetch(`http://127.0.0.1:${mesh.ports.gateway}/jobs/j-new/status`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    const fresh = lineWith("get-j-new");
    expect(fresh?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh?.trace_id).not.toBe(traceId);
  });

  it("so does every step of a streaming call, and a line written off any call carries none", async () => {
    const traceId = randomBytes(16).toString("hex");
    const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    const seen = [];
    for await (const m of client.watchJob(
      { jobId: "j-stream" },
      { headers: { authorization: `Bearer ${TEST_KEY}`, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` } },
    ))
      seen.push(m);
    expect(seen).toHaveLength(1);
    await expect.poll(() => spans.getFinishedSpans().find((s) => s.spanContext().traceId === traceId)).toBeDefined();
    const callSpanId = spans
      .getFinishedSpans()
      .find((s) => s.spanContext().traceId === traceId)!
      .spanContext().spanId;
    expect(lineWith("watch-j-stream")).toMatchObject({ trace_id: traceId, span_id: callSpanId });
    expect(lineWith("watched-j-stream")).toMatchObject({ trace_id: traceId, span_id: callSpanId });

    log.warn("between calls", { marker: "off-call" });
    const off = lineWith("off-call");
    expect(off).toBeDefined();
    expect(off).not.toHaveProperty("trace_id");
    expect(off).not.toHaveProperty("span_id");
  });
});
