import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { heldCalls, holdCalls, releaseHeldCalls, slowForecastArea, whenHeld } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

describe("graceful shutdown", () => {
  it("finishes every in-flight call, reports NOT_SERVING, and refuses new calls", async () => {
    // A grace period no slow machine reaches: this test is about draining, not about the timeout.
    // The 200 calls share one connection, so its stream cap must let them all in.
    const { mesh } = await startTestMesh([slowForecastArea], {
      MLMESH_SHUTDOWN_GRACE_MS: "120000",
      MLMESH_MAX_STREAMS_PER_CONNECTION: "1000",
    });
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`);
    const metadata = { authorization: `Bearer ${TEST_KEY}` };
    // Every call is held by the server until the test releases it, however long that takes.
    const release = holdCalls();
    try {
      // 200 calls in flight; shutdown starts once the server holds them all.
      const calls = Array.from({ length: 200 }, (_, i) =>
        client.unary(ForecastService.method.forecastDemand, { productId: `p${i}`, horizonDays: 1 }, { metadata }),
      );
      await whenHeld(200);
      expect(mesh.health.get("")).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const stopped = mesh.shutdown();
      let heldWhenStopped: number | undefined;
      void stopped.then(() => (heldWhenStopped = heldCalls()));
      expect(mesh.health.get("")).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      // While it drains, the admin port still answers, not ready; nothing was cut off, and shutdown has not finished.
      const ready = await fetch(`http://127.0.0.1:${mesh.ports.admin}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { problems: string[] }).problems).toContainEqual(expect.stringContaining("not serving"));
      expect(heldCalls()).toBe(200);
      expect(heldWhenStopped).toBeUndefined();
      release();
      const results = await Promise.allSettled(calls);
      const failed = results.filter((r) => r.status === "rejected");
      expect(failed).toEqual([]);
      results.forEach((r, i) => {
        if (r.status === "fulfilled") expect(r.value.response.productId).toBe(`p${i}`);
      });
      await stopped;
      // Shutdown finished only once the server held no call.
      expect(heldWhenStopped).toBe(0);
      const late = await client.unary(Health.method.check, { service: "" }, { deadlineMs: 500 }).catch((e) => e);
      expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(late.code);
    } finally {
      releaseHeldCalls();
      client.close();
      await mesh.shutdown();
    }
  });
});
