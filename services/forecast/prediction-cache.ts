import { createHash } from "node:crypto";
import type { Sql } from "../runtime/storage/database.js";

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
   * SHA-256 of JSON.stringify(parts), `history` being parts' last key. The
   * history's JSON (most of the text) is made once per array, however many
   * keys a call hashes it into (a forecast hashes it for its cache entry and
   * for its stored choice), and is fed to the hash without being copied into
   * one string with the rest.
   */
  static key(parts: { readonly history: readonly unknown[] } & Record<string, unknown>): string {
    const { history, ...rest } = parts;
    const head = JSON.stringify(rest);
    return createHash("sha256")
      .update(head === "{}" ? '{"history":' : `${head.slice(0, -1)},"history":`)
      .update(historyJson(history))
      .update("}")
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
      done: new Promise<void>((resolve) => {
        setImmediate(resolve);
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

const historyJsons = new WeakMap<readonly unknown[], string>();
function historyJson(history: readonly unknown[]): string {
  let json = historyJsons.get(history);
  if (json === undefined) historyJsons.set(history, (json = JSON.stringify(history)));
  return json;
}
