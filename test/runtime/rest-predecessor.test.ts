import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastArea } from "../../services/forecast/service.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { trainFromDatabase } from "../../services/match/training.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

/** The predecessors' documented example requests (../shared/seeds), replayed against the REST gateway. */
describe("predecessors' REST examples", () => {
  let mesh: Mesh;
  let base: string;
  let users: { id: string; latitude: number; longitude: number }[];
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TEST_KEY}` },
      body: JSON.stringify(body),
    });
  const transactionData = Array.from({ length: 90 }, (_, i) => ({
    date: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
    quantity: 10 + (i % 7) + (i % 3),
  }));

  beforeAll(async () => {
    const scope = await testScope();
    const db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 2000, seed: 3 });
    await trainFromDatabase(db.sql);
    users = await db.sql`select id::text, latitude, longitude from travellers order by id limit 2`;
    await db.close();
    ({ mesh } = await startTestMesh([matchArea, forecastArea], scope.env));
    base = `http://127.0.0.1:${mesh.ports.gateway}`;
  }, 60_000);
  afterAll(async () => {
    await mesh?.shutdown();
  });

  it("POST /match/score with user_a_id, user_b_id and a context", async () => {
    const res = await post("/match/score", {
      user_a_id: users[0].id,
      user_b_id: users[1].id,
      context: { destination: "Paris", dates: "2024-07-15", interests: ["art", "food"] },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      score: expect.any(Number),
      confidence: expect.any(Number),
      factors: { interest_overlap: expect.any(Number), travel_style: expect.any(Number), personality: expect.any(Number) },
      latency_ms: expect.any(Number),
    });
  });

  it("POST /api/ml-matching/prompt-search as the React Native app sends it", async () => {
    const res = await post("/api/ml-matching/prompt-search", {
      prompt: "Looking for hiking enthusiasts",
      latitude: users[0].latitude,
      longitude: users[0].longitude,
      max_distance: 50,
      age_range: [25, 35],
      limit: 10,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { matches: Record<string, unknown>[] };
    expect(Array.isArray(body.matches)).toBe(true);
    // Around a traveller's own home, within 50 km and 10 years: the loop below must have matches to check.
    expect(body.matches.length).toBeGreaterThan(0);
    for (const m of body.matches) {
      expect(m).toMatchObject({ user_id: expect.any(String), match_score: expect.any(Number), match_reasons: expect.any(Array) });
      // Whole kilometres (or within_1_km), and no bio or coordinates.
      expect(Number.isInteger(m.distance_km ?? 0)).toBe(true);
      for (const field of ["bio", "latitude", "longitude"]) expect(m).not.toHaveProperty(field);
    }
  });

  it("POST /forecast/demand with transaction_data", async () => {
    const res = await post("/forecast/demand", { product_id: "uuid-string", horizon_days: 30, transaction_data: transactionData });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { predictions: unknown[] };
    expect(body).toMatchObject({
      product_id: "uuid-string",
      model_metrics: {
        mape: expect.any(Number),
        rmse: expect.any(Number),
        training_samples: 90,
        seasonality_detected: expect.any(Boolean),
      },
      generated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      horizon_days: 30,
    });
    expect(body.predictions).toHaveLength(30);
    expect(body.predictions[0]).toMatchObject({
      ds: "2024-03-31",
      yhat: expect.any(Number),
      yhat_lower: expect.any(Number),
      yhat_upper: expect.any(Number),
    });
  });

  it("POST /predict/stockout", async () => {
    const res = await post("/predict/stockout", {
      product_id: "uuid-string",
      current_stock_units: 500,
      horizon_days: 90,
      transaction_data: transactionData,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      product_id: "uuid-string",
      predicted_stockout_date: expect.stringMatching(/^2024-/),
      days_until_stockout: expect.any(Number),
      confidence: expect.any(Number),
      daily_usage_forecast: expect.any(Array),
      generated_at: expect.any(String),
    });
  });

  it("keeps the predecessor's error messages", async () => {
    const horizon = await post("/forecast/demand", { product_id: "p", horizon_days: 400, transaction_data: transactionData });
    expect(horizon.status).toBe(400);
    expect(((await horizon.json()) as { message: string }).message).toContain("horizon_days must be between 1 and 365");
    const short = await post("/forecast/demand", { product_id: "p", horizon_days: 30, transaction_data: transactionData.slice(0, 15) });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { message: string }).message).toBe("Insufficient transaction data. Need at least 30 days, got 15");
  });
});
