import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForecastService, HolidayCalendar } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { MODEL_VERSION } from "../../services/forecast/model/forecast.js";
import { forecastArea } from "../../services/forecast/service.js";
import { seedSampleInventory } from "../../services/forecast/seed.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };

function days(n: number, f: (t: number) => number) {
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, t) => ({ date: new Date(start + t * 86_400_000).toISOString().slice(0, 10), quantity: f(t) }));
}

describe("ForecastService", () => {
  let mesh: Mesh;
  let client: Client<typeof ForecastService>;
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([forecastArea]));
    client = createClient(ForecastService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
    await seedSampleInventory(mesh.db, { products: 3, seed: 99, endDate: "2025-06-30" });
  });
  afterAll(async () => {
    await mesh?.shutdown();
  });

  it("forecasts inline history, then serves the same request from the cache", async () => {
    const transactionData = days(120, (t) => 20 + (t % 7 === 0 ? 10 : 0) + (t % 5));
    const productId = `inline-${Date.now()}`;
    const first = await client.forecastDemand({ productId, horizonDays: 14, transactionData }, { headers });
    expect(first.cached).toBe(false);
    expect(first.predictions).toHaveLength(14);
    expect(first.predictions[0].ds).toBe("2024-04-30");
    for (const p of first.predictions) expect(p.yhatLower).toBeLessThanOrEqual(p.yhat);
    expect(first.modelMetrics?.trainingSamples).toBe(120);
    expect(first.modelMetrics?.seasonalityPeriodsDays).toContain(7);
    expect(first.model).not.toBe("");
    const second = await client.forecastDemand({ productId, horizonDays: 14, transactionData }, { headers });
    expect(second.cached).toBe(true);
    expect(second.predictions).toEqual(first.predictions);
    const bypass = await client.forecastDemand({ productId, horizonDays: 14, transactionData, cacheBypass: true }, { headers });
    expect(bypass.cached).toBe(false);
    // New data changes the key: no stale answer.
    const more = await client.forecastDemand(
      { productId, horizonDays: 14, transactionData: [...transactionData, { date: "2024-04-30", quantity: 90 }] },
      { headers },
    );
    expect(more.cached).toBe(false);
  });

  it("reads history from the transactions table when none is inline", async () => {
    const res = await client.forecastDemand({ productId: "sku-0001", horizonDays: 30, holidayCalendar: HolidayCalendar.US }, { headers });
    expect(res.predictions).toHaveLength(30);
    expect(res.predictions[0].ds).toBe("2025-07-01");
    expect(res.modelMetrics?.trainingSamples).toBe(3 * 365);
  });

  it("answers FAILED_PRECONDITION with the predecessor's message", async () => {
    const err = await client
      .forecastDemand({ productId: "p", horizonDays: 30, transactionData: days(15, () => 3) }, { headers })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toBe("Insufficient transaction data. Need at least 30 days, got 15");
    const unknown = await client
      .forecastDemand({ productId: "no-such-product", horizonDays: 30 }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((unknown as ConnectError).rawMessage).toBe("Insufficient transaction data. Need at least 30 days, got 0");
  });

  it("rejects bad dates and horizons as INVALID_ARGUMENT naming the field", async () => {
    const bad = await client
      .forecastDemand({ productId: "p", horizonDays: 30, transactionData: [{ date: "2024-13-40", quantity: 1 }] }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    expect((bad as ConnectError).rawMessage).toContain("transaction_data[0].date");
    const horizon = await client.forecastDemand({ productId: "p", horizonDays: 366 }, { headers }).catch((e) => ConnectError.from(e));
    expect((horizon as ConnectError).rawMessage).toContain("horizon_days must be between 1 and 365");
  });

  it("predicts a stockout date with its probability, or none", async () => {
    const transactionData = days(200, (t) => 10 + (t % 3));
    const res = await client.predictStockout({ productId: "s", currentStockUnits: 105, horizonDays: 30, transactionData }, { headers });
    expect(res.daysUntilStockout).toBeGreaterThanOrEqual(8);
    expect(res.daysUntilStockout).toBeLessThanOrEqual(11);
    expect(res.predictedStockoutDate).toMatch(/^2024-07-/);
    expect(res.confidence).toBeGreaterThan(0.2);
    expect(res.dailyUsageForecast).toHaveLength(30);
    const none = await client.predictStockout({ productId: "s", currentStockUnits: 1e6, horizonDays: 30, transactionData }, { headers });
    expect(none.predictedStockoutDate).toBe("");
    expect(none.daysUntilStockout).toBeUndefined();
  });

  it("computes a reorder point and safety stock over gRPC, Connect and REST, with the model, its version and its backtest error", async () => {
    // Weekly pattern around 20 a day with noise: demand over a 14-day lead time is about 280.
    const transactionData = days(400, (t) => 20 + (t % 7 === 5 ? 8 : 0) + ((t * 7919) % 11) - 5);
    const productId = `rop-${Date.now()}`;
    const req = { productId, leadTimeDays: 14, serviceLevel: 0.95, transactionData };
    const res = await client.computeReorderPoint(req, { headers });
    expect(res.cached).toBe(false);
    expect(res.leadTimeDays).toBe(14);
    expect(res.serviceLevel).toBe(0.95);
    expect(res.expectedLeadTimeDemandUnits).toBeGreaterThan(240);
    expect(res.expectedLeadTimeDemandUnits).toBeLessThan(330);
    expect(res.reorderPointUnits).toBeGreaterThan(res.expectedLeadTimeDemandUnits);
    expect(res.safetyStockUnits).toBeCloseTo(res.reorderPointUnits - res.expectedLeadTimeDemandUnits, 6);
    expect(res.model).not.toBe("");
    expect(res.modelVersion).toBe(MODEL_VERSION);
    expect(res.modelMetrics?.mase).toBeGreaterThan(0);
    expect(res.modelMetrics?.trainingSamples).toBe(400);
    // A lower service level needs less stock; the same request is served from the cache.
    const lower = await client.computeReorderPoint({ ...req, serviceLevel: 0.5 }, { headers });
    expect(lower.reorderPointUnits).toBeLessThan(res.reorderPointUnits);
    const again = await client.computeReorderPoint(req, { headers });
    expect(again.cached).toBe(true);
    expect(again.reorderPointUnits).toBe(res.reorderPointUnits);

    const connect = createClient(
      ForecastService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" }),
    );
    const viaConnect = await connect.computeReorderPoint(req, { headers });
    expect(viaConnect.reorderPointUnits).toBe(res.reorderPointUnits);

    const rest = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/forecast/reorder-point`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ product_id: productId, lead_time_days: 14, service_level: 0.95, transaction_data: transactionData }),
    });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({
      product_id: productId,
      lead_time_days: 14,
      reorder_point_units: res.reorderPointUnits,
      safety_stock_units: res.safetyStockUnits,
      model_version: MODEL_VERSION,
      model_metrics: expect.objectContaining({ mase: expect.any(Number) }),
    });
  });

  it("reads reorder-point history from the transactions table, and rejects bad lead times and service levels naming the field", async () => {
    const stored = await client.computeReorderPoint({ productId: "sku-0001", leadTimeDays: 7, serviceLevel: 0.9 }, { headers });
    expect(stored.reorderPointUnits).toBeGreaterThan(0);
    expect(stored.modelMetrics?.trainingSamples).toBe(3 * 365);
    const transactionData = days(120, () => 5);
    const bad = async (leadTimeDays: number, serviceLevel: number) => {
      const err = await client
        .computeReorderPoint({ productId: "p", leadTimeDays, serviceLevel, transactionData }, { headers })
        .catch((e) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      return (err as ConnectError).rawMessage;
    };
    expect(await bad(0, 0.95)).toContain("lead_time_days must be between 1 and 365");
    expect(await bad(366, 0.95)).toContain("lead_time_days");
    expect(await bad(7, 1)).toContain("service_level");
    expect(await bad(7, 0)).toContain("service_level");
    expect(await bad(7, Number.NaN)).toContain("service_level");
    const rest = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/forecast/reorder-point`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ product_id: "p", lead_time_days: 7, service_level: 1.5 }),
    });
    expect(rest.status).toBe(400);
    expect(((await rest.json()) as { message: string }).message).toContain("service_level");
  });
});
