import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { holdCalls, releaseHeldCalls, slowForecastArea } from "../fixtures/slow-forecast-area.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };

describe("Connect port, as Edge Functions and browsers call it", () => {
  let mesh: Mesh;
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([slowForecastArea]));
  });
  afterAll(async () => {
    await mesh?.shutdown();
  });
  afterEach(releaseHeldCalls);

  it("serves the Connect protocol over HTTP/1.1", async () => {
    const client = createClient(
      ForecastService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" }),
    );
    const res = await client.forecastDemand({ productId: "edge", horizonDays: 2 }, { headers });
    expect(res.productId).toBe("edge");
  });

  it("serves plain JSON POSTs as an Edge Function's fetch sends them", async () => {
    const res = await fetch(`http://127.0.0.1:${mesh.ports.connect}/mlmesh.forecast.v1.ForecastService/ForecastDemand`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ product_id: "fetch", horizon_days: 3 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ productId: "fetch", horizonDays: 3 });
    const bad = await fetch(`http://127.0.0.1:${mesh.ports.connect}/mlmesh.forecast.v1.ForecastService/ForecastDemand`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ product_id: "fetch", horizon_days: 400 }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("horizon_days must be between 1 and 365"),
    });
  });

  it("serves gRPC-Web and gRPC (h2c) on the same port", async () => {
    const web = createClient(
      ForecastService,
      createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" }),
    );
    expect((await web.forecastDemand({ productId: "web", horizonDays: 1 }, { headers })).productId).toBe("web");
    const h2c = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}` }));
    expect((await h2c.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("maps errors to Connect codes and requires a key", async () => {
    const client = createClient(
      ForecastService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" }),
    );
    const unauth = await client.forecastDemand({ productId: "x", horizonDays: 1 }).catch((e) => ConnectError.from(e));
    expect(unauth).toBeInstanceOf(ConnectError);
    expect((unauth as ConnectError).code).toBe(Code.Unauthenticated);
    // A deadline (generous: this checks the code, not the speed) does not hide a contract violation.
    const invalid = await client
      .forecastDemand({ productId: "x", horizonDays: 400 }, { headers, timeoutMs: 30_000 })
      .catch((e) => ConnectError.from(e));
    expect((invalid as ConnectError).code).toBe(Code.InvalidArgument);
    // The server holds this call until released: only its deadline can end it.
    holdCalls();
    const slow = await client
      .forecastDemand({ productId: "x", horizonDays: 300 }, { headers, timeoutMs: 50 })
      .catch((e) => ConnectError.from(e));
    expect((slow as ConnectError).code).toBe(Code.DeadlineExceeded);
  });
});
