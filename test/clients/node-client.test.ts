import { readFileSync } from "node:fs";
import { fromJson } from "@bufbuild/protobuf";
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClientError, createMeshClient, forecast, jobs, Status } from "../../clients/node/src/index.js";
import { forecastArea } from "../../services/forecast/service.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { holdCalls, releaseHeldCalls, slowForecastArea, whenHeld } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const SAMPLE = fromJson(forecast.ForecastDemandRequestSchema, JSON.parse(readFileSync("scripts/samples/forecast-demand.json", "utf8")));

/** Requests the mesh counted for one method (its /metrics), whatever their outcome. */
async function requestsCounted(mesh: Mesh, method: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${mesh.ports.admin}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("mlmesh_rpc_requests_total{") && line.includes(`method="${method}"`)) total += Number(line.split(" ").pop());
  }
  return total;
}

describe("@mlmesh/client-node against the mesh's gRPC port", () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => void context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => void context.disable());

  describe("key, trace and deadline", () => {
    let mesh: Mesh;
    let spans: Awaited<ReturnType<typeof startTestMesh>>["spans"];
    beforeAll(async () => {
      ({ mesh, spans } = await startTestMesh([slowForecastArea]));
    });
    afterAll(async () => mesh?.shutdown());
    afterEach(releaseHeldCalls);

    it("sends the API key, and without one the mesh refuses", async () => {
      const client = createMeshClient({ address: `127.0.0.1:${mesh.ports.grpc}`, apiKey: TEST_KEY });
      const keyless = createMeshClient({ address: `127.0.0.1:${mesh.ports.grpc}` });
      try {
        expect((await client.forecast.forecastDemand({ productId: "node", horizonDays: 1 })).productId).toBe("node");
        expect((await keyless.health.check({ service: "" })).status).toBe(1);
        const refused = await keyless.forecast.forecastDemand({ productId: "node", horizonDays: 1 }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(ClientError);
        expect((refused as ClientError).code).toBe(Status.UNAUTHENTICATED);
      } finally {
        client.close();
        keyless.close();
      }
    });

    it("continues the active span's trace on the server", async () => {
      const client = createMeshClient({ address: `127.0.0.1:${mesh.ports.grpc}`, apiKey: TEST_KEY });
      const parent = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED };
      try {
        await context.with(trace.setSpanContext(context.active(), parent), () =>
          client.forecast.forecastDemand({ productId: "traced", horizonDays: 1 }),
        );
        const span = spans.getFinishedSpans().find((s) => s.spanContext().traceId === parent.traceId);
        expect(span?.name).toBe("mlmesh.forecast.v1.ForecastService/ForecastDemand");
        expect(span?.parentSpanContext?.spanId).toBe(parent.spanId);
      } finally {
        client.close();
      }
    });

    it("gives every call the default deadline, and a call's own deadline overrides it", async () => {
      const client = createMeshClient({ address: `127.0.0.1:${mesh.ports.grpc}`, apiKey: TEST_KEY, defaultDeadlineMs: 200 });
      try {
        // Held calls never finish by themselves: only a deadline can end this one.
        holdCalls();
        const expired = await client.forecast.forecastDemand({ productId: "held", horizonDays: 1 }).catch((e: unknown) => e);
        expect(expired).toBeInstanceOf(ClientError);
        expect((expired as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
        // A longer deadline of its own: the call outlives the default, and answers once released.
        const long = client.forecast.forecastDemand({ productId: "patient", horizonDays: 1 }, { deadline: 120_000 });
        await whenHeld(1);
        releaseHeldCalls();
        expect((await long).productId).toBe("patient");
      } finally {
        client.close();
      }
    });
  });

  it("retries an idempotent call across a restart of the mesh on the same port", { timeout: 300_000 }, async () => {
    const scope = (await testScope()).env;
    let mesh = (await startTestMesh([forecastArea], scope)).mesh;
    const port = mesh.ports.grpc;
    const client = createMeshClient({
      address: `127.0.0.1:${port}`,
      apiKey: TEST_KEY,
      // Generous on purpose: the restart below may take long on a busy machine; the deadline bounds the whole call.
      defaultDeadlineMs: 240_000,
      retry: { maxAttempts: 10_000, initialBackoffMs: 50, maxBackoffMs: 500 },
    });
    try {
      expect((await client.forecast.forecastDemand(SAMPLE)).predictions.length).toBeGreaterThan(0);
      await mesh.shutdown();
      const call = client.forecast.forecastDemand(SAMPLE);
      // The call has met the stopped server (connection refused) before the mesh comes back.
      while (client.channel.getConnectivityState(false) !== 3 /* TRANSIENT_FAILURE */) await new Promise((r) => setTimeout(r, 20));
      mesh = (await startTestMesh([forecastArea], { ...scope, GRPC_PORT: String(port) })).mesh;
      expect((await call).predictions.length).toBeGreaterThan(0);
    } finally {
      client.close();
      await mesh.shutdown();
    }
  });

  it("retries a submission on UNAVAILABLE only when it carries an idempotency key", async () => {
    // With Redis unreachable the mesh answers every submission UNAVAILABLE (and records nothing).
    const { mesh } = await startTestMesh([jobsAreaWith(jobHandlers)], { REDIS_URL: "redis://127.0.0.1:1" });
    const client = createMeshClient({
      address: `127.0.0.1:${mesh.ports.grpc}`,
      apiKey: TEST_KEY,
      retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    try {
      const kind = jobs.ModelKind.MATCH;
      const before = await requestsCounted(mesh, "SubmitTrainingJob");
      const once = await client.jobs.submitTrainingJob({ model: kind }).catch((e: unknown) => e);
      expect((once as ClientError).code).toBe(Status.UNAVAILABLE);
      expect(await requestsCounted(mesh, "SubmitTrainingJob")).toBe(before + 1);
      const keyed = await client.jobs.submitTrainingJob({ model: kind, idempotencyKey: "nightly-1" }).catch((e: unknown) => e);
      expect((keyed as ClientError).code).toBe(Status.UNAVAILABLE);
      expect(await requestsCounted(mesh, "SubmitTrainingJob")).toBe(before + 1 + 3);
    } finally {
      client.close();
      await mesh.shutdown();
    }
  });
});
