import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

describe("without Redis", () => {
  it("starts, reports ready and serves what does not need Redis", async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    const { mesh } = await startTestMesh([slowForecastArea], { REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` });
      expect((await createClient(Health, transport).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const res = await createClient(ForecastService, transport).forecastDemand(
        { productId: "no-redis", horizonDays: 1 },
        { headers: { authorization: `Bearer ${TEST_KEY}` } },
      );
      expect(res.productId).toBe("no-redis");
      const ready = await fetch(`http://127.0.0.1:${mesh.ports.admin}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await mesh.shutdown();
    }
  });
});
