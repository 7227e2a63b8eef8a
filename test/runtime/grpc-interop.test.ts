import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { holdCalls, releaseHeldCalls, slowForecastArea, whenHeld } from "../fixtures/slow-forecast-area.js";
import { RawGrpcClient } from "../support/grpc-client.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";

const auth = { authorization: `Bearer ${TEST_KEY}` };
const emptyMatchArea = async () => ({ service: MatchScoringService, impl: {} });

describe("gRPC port, called by @grpc/grpc-js's own client", () => {
  let mesh: Mesh;
  let spans: InMemorySpanExporter;
  let client: RawGrpcClient;
  const forecast = ForecastService.method.forecastDemand;

  beforeAll(async () => {
    ({ mesh, spans } = await startTestMesh([slowForecastArea, emptyMatchArea]));
    client = new RawGrpcClient(`127.0.0.1:${mesh.ports.grpc}`);
  });
  afterAll(async () => {
    client?.close();
    await mesh?.shutdown();
  });
  // A test that holds calls and fails must not leave the next ones held.
  afterEach(releaseHeldCalls);

  it("answers health without a key", async () => {
    const { response } = await client.unary(Health.method.check, { service: "" });
    expect(response.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const per = await client.unary(Health.method.check, { service: "mlmesh.forecast.v1.ForecastService" });
    expect(per.response.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await expect(client.unary(Health.method.check, { service: "no.such.Service" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("serves a unary call and continues the caller's trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const { response, headers } = await client.unary(
      forecast,
      { productId: "sku-1", horizonDays: 5 },
      { metadata: { ...auth, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
    );
    expect(response.productId).toBe("sku-1");
    expect(String(headers.get("traceparent")[0])).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const span = spans.getFinishedSpans().find((s) => s.spanContext().traceId === traceId);
    expect(span?.name).toBe("mlmesh.forecast.v1.ForecastService/ForecastDemand");
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });

  it("honours an expiring deadline: the server answers DEADLINE_EXCEEDED and stops the handler", async () => {
    // Held calls never finish by themselves: only the deadline can end them, however slow the machine.
    holdCalls();
    await expect(client.unary(forecast, { productId: "slow", horizonDays: 300 }, { metadata: auth, deadlineMs: 60 })).rejects.toMatchObject(
      { code: grpc.status.DEADLINE_EXCEEDED },
    );
    await whenHeld(0);
    // grpc-js gives up at its own deadline; a bare HTTP/2 client that never does shows the server's deadline at work.
    const status = await callWithGrpcTimeout(forecast, { productId: "slow", horizonDays: 300 }, "100m");
    expect(status).toBe(String(grpc.status.DEADLINE_EXCEEDED));
    await whenHeld(0);
  });

  it("stops the handler when the client cancels", async () => {
    holdCalls();
    const before = await counter("CANCELLED");
    // Cancelled once the server holds the call, not after a fixed time.
    await expect(
      client.unary(
        forecast,
        { productId: "cancel-me", horizonDays: 300 },
        { metadata: auth, onCall: (call) => void whenHeld(1).then(() => call.cancel()) },
      ),
    ).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await whenHeld(0);
    await expect.poll(() => counter("CANCELLED"), { timeout: 30_000 }).toBe(before + 1);
  });

  it("rejects a request that breaks a contract rule, naming the field and rule", async () => {
    const err = await client.unary(forecast, { productId: "sku", horizonDays: 0 }, { metadata: auth }).catch((e) => e);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("horizon_days");
    expect(err.details).toContain("horizon_days must be between 1 and 365");
    expect(err.details).toContain("horizon_days.range");
  });

  it("answers garbage bytes with INVALID_ARGUMENT and stays up", async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x99, 0x01]);
    await expect(client.raw(forecast, garbage, { metadata: auth })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    const { response } = await client.unary(forecast, { productId: "after", horizonDays: 1 }, { metadata: auth });
    expect(response.productId).toBe("after");
  });

  it("requires a valid API key", async () => {
    await expect(client.unary(forecast, { productId: "x", horizonDays: 1 })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(
      client.unary(forecast, { productId: "x", horizonDays: 1 }, { metadata: { authorization: "Bearer wrong-key-wrong-key" } }),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const viaHeader = await client.unary(forecast, { productId: "x", horizonDays: 1 }, { metadata: { "x-api-key": TEST_KEY } });
    expect(viaHeader.response.productId).toBe("x");
  });

  it("answers UNIMPLEMENTED for a feature that is not built", async () => {
    const err = await client
      .unary(
        MatchScoringService.method.scoreMatch,
        { userAId: "8a6e0804-2bd0-4672-b79d-d97027f9071a", userBId: "b1e2f0a4-9c33-4f0e-8d7b-6f0a1c2d3e4f" },
        { metadata: auth },
      )
      .catch((e) => e);
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it("refuses messages over the size limit", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 1);
    await expect(client.raw(forecast, big, { metadata: auth })).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it("counts requests and errors per method and code", async () => {
    const text = await mesh.metrics.registry.getSingleMetricAsString("mlmesh_rpc_requests_total");
    expect(text).toMatch(/method="ForecastDemand",code="INVALID_ARGUMENT",transport="grpc"/);
    const errors = await mesh.metrics.registry.getSingleMetricAsString("mlmesh_rpc_errors_total");
    expect(errors).toMatch(/code="UNAUTHENTICATED"/);
  });

  /** One call over a bare HTTP/2 stream that sends grpc-timeout and never cancels; resolves with the grpc-status the server ends it with. */
  function callWithGrpcTimeout(
    method: typeof forecast,
    request: MessageInitShape<typeof forecast.input>,
    timeout: string,
  ): Promise<string | undefined> {
    const message = toBinary(method.input, create(method.input, request));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${mesh.ports.grpc}`);
      session.on("error", reject);
      const req = session.request({
        ":method": "POST",
        ":path": `/${method.parent.typeName}/${method.name}`,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": timeout,
        ...auth,
      });
      let status: string | undefined;
      req.on("response", (headers) => headers["grpc-status"] !== undefined && (status = String(headers["grpc-status"])));
      req.on("trailers", (trailers) => (status = String(trailers["grpc-status"])));
      req.on("data", () => undefined);
      req.on("error", reject);
      req.on("close", () => {
        session.close();
        resolve(status);
      });
      req.end(frame);
    });
  }

  async function counter(code: string): Promise<number> {
    const metric = await mesh.metrics.rpcRequests.get();
    return metric.values.filter((v) => v.labels.method === "ForecastDemand" && v.labels.code === code).reduce((sum, v) => sum + v.value, 0);
  }
});
