import { createHash } from "node:crypto";
import type { Sql } from "../runtime/storage/database.js";
import type { DailyQuantity } from "./model/daily-series.js";
import { packedHistory } from "./packed-history.js";

export type PredictionKind = "demand" | "stockout" | "reorder_point";

/**
 * Forecasts cached in PostgreSQL (ml_predictions), as the predecessor did, for
 * 24 hours by default. The key includes a hash of the data and of every input
 * that changes the answer, so new transactions never return a stale forecast.
 */
export class PredictionCache {
  /** Entries being written in the background (write), by entryKey: a read of one is answered from these bytes. */
  private readonly writing = new Map<string, { response: () => Uint8Array; done: Promise<void> }>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlSeconds = 24 * 3600,
  ) {}

  /**
   * SHA-256 of the parts: JSON.stringify of all but `history`, then the
   * history as packed for the worker thread (packed-history.ts): its length,
   * each date's length, the dates and the quantities' float64 bytes, with no
   * JSON made of it. Three years of history as JSON cost a forecast more main
   * thread time than hashing it (0.11 of 0.15 ms); packed, the key costs a
   * few microseconds, and one packing serves both of a call's keys and the
   * fit. Unambiguous: the lengths fix where each date ends, the count fixes
   * how many quantities end the input, and no JSON text holds a raw NUL.
   */
  static key(parts: { readonly history: readonly DailyQuantity[] } & Record<string, unknown>): string {
    const { history, ...rest } = parts;
    const { dates, dateLengths, quantities } = packedHistory(history);
    return createHash("sha256")
      .update(`${JSON.stringify(rest)}\u0000${dateLengths.length}\u0000`)
      .update(new Uint8Array(dateLengths.buffer, dateLengths.byteOffset, dateLengths.byteLength))
      .update(dates)
      .update(new Uint8Array(quantities.buffer, quantities.byteOffset, quantities.byteLength))
      .digest("hex");
  }

  async get(productId: string, kind: PredictionKind, horizonDays: number, dataHash: string): Promise<Uint8Array | undefined> {
    const pending = this.writing.get(entryKey(productId, kind, horizonDays, dataHash));
    if (pending) return pending.response();
    const rows = await this.sql<{ response: Uint8Array }[]>`
      select response from ml_predictions
      where product_id = ${productId} and kind = ${kind} and horizon_days = ${horizonDays}
        and data_hash = ${dataHash} and expires_at > now()`;
    return rows[0]?.response;
  }

  /**
   * Stores an entry without holding the caller: the answer is encoded and
   * written once the current call has been answered (an answer need not wait
   * for its cache entry). Until the write is done, a read of the same entry
   * here is answered from it. A failed write is handed to `onError`.
   */
  write(
    productId: string,
    kind: PredictionKind,
    horizonDays: number,
    dataHash: string,
    encode: () => Uint8Array,
    model: string,
    onError: (err: unknown) => void,
  ): void {
    const key = entryKey(productId, kind, horizonDays, dataHash);
    let bytes: Uint8Array | undefined;
    const response = () => (bytes ??= encode());
    const entry: { response: () => Uint8Array; done: Promise<void> } = {
      response,
      // After the event loop's next poll for I/O: an immediate set from an immediate runs in the next turn's
      // check phase, so the sockets ready now (the answer's own client, when it shares the process) are read first.
      done: new Promise<void>((resolve) => {
        setImmediate(() => setImmediate(resolve));
      })
        .then(() => this.put(productId, kind, horizonDays, dataHash, response(), model))
        .catch(onError)
        .finally(() => {
          if (this.writing.get(key) === entry) this.writing.delete(key);
        }),
    };
    this.writing.set(key, entry);
  }

  /** Waits for the background writes under way (before the database closes). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()].map((w) => w.done));
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

const entryKey = (productId: string, kind: PredictionKind, horizonDays: number, dataHash: string) =>
  `${kind}\u0000${horizonDays}\u0000${dataHash}\u0000${productId}`;
