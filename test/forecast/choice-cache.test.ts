import { createHash } from "node:crypto";
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
  it("are the SHA-256 of the parts' JSON, as before the history's JSON was reused, so earlier entries and choices still match", () => {
    const history = [
      { date: "2025-01-01", quantity: 3 },
      { date: "2025-01-02", quantity: 0.5 },
    ];
    const parts = [
      { v: 1, options: { horizonDays: 30, intervalLevel: 0.95, holidays: { dates: ["2025-01-01"] } }, history },
      { v: "forecast-3", horizonDays: 7, holidays: { calendar: "US", dates: [] }, history },
      { history },
      { v: 1, options: { horizonDays: 30, candidates: undefined }, history: [] },
    ];
    for (const p of parts) {
      expect(PredictionCache.key(p)).toBe(createHash("sha256").update(JSON.stringify(p)).digest("hex"));
      // Twice: the second hashes the history's kept JSON.
      expect(PredictionCache.key(p)).toBe(createHash("sha256").update(JSON.stringify(p)).digest("hex"));
    }
  });
});
