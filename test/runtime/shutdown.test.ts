import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { heldCalls, slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

describe("graceful shutdown", () => {
  it("finishes every in-flight call, reports NOT_SERVING, and refuses new calls", async () => {
    const { mesh } = await startTestMesh([slowForecastArea]);
    const client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`);
    const metadata = { authorization: `Bearer ${TEST_KEY}` };
    try {
      // 200 calls in flight, each held 150-350 ms by the server; shutdown starts once the server holds them all.
      const calls = Array.from({ length: 200 }, (_, i) =>
        client.unary(ForecastService.method.forecastDemand, { productId: `p${i}`, horizonDays: 150 + (i % 200) }, { metadata }),
      );
      await expect.poll(heldCalls, { timeout: 10_000, interval: 5 }).toBe(200);
      expect(mesh.health.get("")).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const stopped = mesh.shutdown();
      expect(mesh.health.get("")).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      const results = await Promise.allSettled(calls);
      const failed = results.filter((r) => r.status === "rejected");
      expect(failed).toEqual([]);
      results.forEach((r, i) => r.status === "fulfilled" && expect(r.value.response.productId).toBe(`p${i}`));
      await stopped;
      const late = await client.unary(Health.method.check, { service: "" }, { deadlineMs: 500 }).catch((e) => e);
      expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(late.code);
    } finally {
      client.close();
      await mesh.shutdown();
    }
  });
});
