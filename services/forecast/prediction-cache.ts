import { createHash } from "node:crypto";
import type { Sql } from "../runtime/storage/database.js";

export type PredictionKind = "demand" | "stockout" | "reorder_point";

/**
 * Forecasts cached in PostgreSQL (ml_predictions), as the predecessor did, for
 * 24 hours by default. The key includes a hash of the data and of every input
 * that changes the answer, so new transactions never return a stale forecast.
 */
export class PredictionCache {
  constructor(
    private readonly sql: Sql,
    private readonly ttlSeconds = 24 * 3600,
  ) {}

  static key(parts: unknown): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  async get(productId: string, kind: PredictionKind, horizonDays: number, dataHash: string): Promise<Uint8Array | undefined> {
    const rows = await this.sql<{ response: Uint8Array }[]>`
      select response from ml_predictions
      where product_id = ${productId} and kind = ${kind} and horizon_days = ${horizonDays}
        and data_hash = ${dataHash} and expires_at > now()`;
    return rows[0]?.response;
  }

  async put(
    productId: string,
    kind: PredictionKind,
    horizonDays: number,
    dataHash: string,
    response: Uint8Array,
    model: string,
  ): Promise<void> {
    await this.sql`
      insert into ml_predictions (product_id, kind, horizon_days, data_hash, response, model, expires_at)
      values (${productId}, ${kind}, ${horizonDays}, ${dataHash}, ${Buffer.from(response)}, ${model},
              now() + make_interval(secs => ${this.ttlSeconds}))
      on conflict (product_id, kind, horizon_days, data_hash)
      do update set response = excluded.response, model = excluded.model,
                    created_at = now(), expires_at = excluded.expires_at`;
  }
}
