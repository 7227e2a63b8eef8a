import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CachedChoices } from "../../services/forecast/choice-cache.js";
import { ModelChoices } from "../../services/forecast/model-choices.js";
import { PredictionCache } from "../../services/forecast/prediction-cache.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { fileScope } from "../support/scope.js";

let db: Database;
let choices: CachedChoices;
const reads: string[] = [];

beforeAll(async () => {
  db = await openDatabase({ url: (await fileScope()).databaseUrl, dataDir: "" });
  await migrate(db.sql);
  const stored = new ModelChoices(db.sql);
  // Counts the reads that reach the database.
  choices = await CachedChoices.open(db, {
    competitors: (productId, key) => {
      reads.push(productId);
      return stored.competitors(productId, key);
    },
  });
}, 60_000);

afterAll(async () => {
  await choices?.close();
  await db?.close();
});

const choose = (productId: string, model: string, key: string) => db.sql`
  insert into forecast_model_choices (product_id, model, method_version, parameters, metrics, candidates, history_hash, history_days)
  values (${productId}, ${model}, 'forecast-3', '{}', '{}', '[]', ${key}, 100)
  on conflict (product_id) do update set model = excluded.model, history_hash = excluded.history_hash`;

/** Polls until the announcement has dropped the product (it arrives over LISTEN, after the write returns). */
async function untilRead(productId: string, key: string, want: string[] | undefined) {
  for (let i = 0; i < 200; i++) {
    const got = await choices.competitors(productId, key);
    if (JSON.stringify(got) === JSON.stringify(want)) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the choice of ${productId} never became ${JSON.stringify(want)}`);
}

describe("stored model choices kept in process", () => {
  it("reads a product's choice once per key, and again when PostgreSQL announces a new one", async () => {
    expect(await choices.competitors("sku-a", "k1")).toBeUndefined();
    expect(await choices.competitors("sku-a", "k1")).toBeUndefined();
    expect(reads.filter((p) => p === "sku-a")).toHaveLength(1);

    // Training (another process, or psql) writes a choice on this key: the kept "none" is dropped.
    await choose("sku-a", "theta", "k1");
    expect(await untilRead("sku-a", "k1", ["theta"])).toEqual(["theta"]);
    const before = reads.length;
    expect(await choices.competitors("sku-a", "k1")).toEqual(["theta"]);
    expect(reads.length).toBe(before);

    // Another key (new history) is read, not answered from the kept one.
    expect(await choices.competitors("sku-a", "k2")).toBeUndefined();
    expect(reads.length).toBe(before + 1);

    // An update and a delete are announced too.
    await choose("sku-a", "seasonal naive (7 days)", "k1");
    expect(await untilRead("sku-a", "k1", ["seasonal naive (7 days)"])).toEqual(["seasonal naive (7 days)"]);
    await db.sql`delete from forecast_model_choices where product_id = 'sku-a'`;
    expect(await untilRead("sku-a", "k1", undefined)).toBeUndefined();
  });
});

describe("prediction cache keys", () => {
  const history = [
    { date: "2025-01-01", quantity: 3 },
    { date: "2025-01-02", quantity: 0.5 },
  ];
  const options = { horizonDays: 30, intervalLevel: 0.95, holidays: { dates: ["2025-01-01"] } };
  const key = (h: readonly { date: string; quantity: number }[], o: Record<string, unknown> = options) =>
    PredictionCache.key({ v: 1, options: o, history: h });

  it("depend on the history's dates and quantities only: a request's records key as the same rows read from PostgreSQL", () => {
    const records = history.map((h) => ({ $typeName: "mlmesh.forecast.v1.TransactionRecord", ...h }));
    expect(key(records)).toBe(key(history));
    expect(key(history.map((h) => ({ ...h })))).toBe(key(history));
    // Twice: the second reads the array's kept packing.
    expect(key(history)).toBe(key(history));
    expect(key(history)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("change with any date, quantity, record or option, and with where one date ends and the next begins", () => {
    const keys = [
      key(history),
      key([history[0], { date: "2025-01-02", quantity: 0.25 }]),
      key([history[0], { date: "2025-01-03", quantity: 0.5 }]),
      key([history[0]]),
      key([...history, { date: "2025-01-03", quantity: 0 }]),
      key([history[1], history[0]]),
      key(history, { ...options, horizonDays: 31 }),
      key(history, { ...options, holidays: { calendar: "US", dates: ["2025-01-01"] } }),
      key([]),
      key([
        { date: "ab", quantity: 1 },
        { date: "c", quantity: 2 },
      ]),
      key([
        { date: "a", quantity: 1 },
        { date: "bc", quantity: 2 },
      ]),
      PredictionCache.key({ v: 2, options, history }),
      PredictionCache.key({ history }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
