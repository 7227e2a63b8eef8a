import { LruCache } from "../runtime/lru.js";
import type { Database } from "../runtime/storage/database.js";
import { onRowChanges, type RowChanges } from "../runtime/storage/row-changes.js";
import type { ModelChoices } from "./model-choices.js";

/** What the handlers ask of the stored choices: the candidates to fit for a product and key, or undefined (all). */
export interface ChoiceLookup {
  competitors(productId: string, key: string): Promise<string[] | undefined>;
}

/** Products whose answer is kept; an entry is a few hundred bytes. */
const MAX_PRODUCTS = 50_000;
/** Where PostgreSQL cannot announce changes (PGlite without LISTEN), a choice trained meanwhile is seen after this. */
const TTL_MS = 10 * 60_000;

/**
 * The stored choices (forecast_model_choices) read once per product and key,
 * then kept in process, so a forecast costs no database round trip before its
 * fit. A kept answer can never be wrong, only late: a choice is found only
 * for the exact key (method version, history, horizon, holidays) it was made
 * on, and that key decides the winner, so a stale "none" costs a full
 * selection (the same answer, slower) until PostgreSQL announces the product's
 * new choice (0430_forecast_choice_changes.sql) and every server drops it.
 */
export class CachedChoices implements ChoiceLookup {
  private readonly kept = new LruCache<{ key: string; candidates: string[] | undefined }>(MAX_PRODUCTS, TTL_MS);
  /** Counts announcements: a read under way when one arrives answers, but keeps nothing. */
  private generation = 0;

  private constructor(private readonly choices: Pick<ModelChoices, "competitors">) {}

  private changes?: RowChanges;

  static async open(db: Database, choices: Pick<ModelChoices, "competitors">): Promise<CachedChoices> {
    const cache = new CachedChoices(choices);
    cache.changes = await onRowChanges(
      db,
      "forecast_model_choices",
      (productId) => cache.forget(productId),
      () => cache.forgetAll(),
    );
    return cache;
  }

  async competitors(productId: string, key: string): Promise<string[] | undefined> {
    const kept = this.kept.get(productId);
    if (kept && kept.key === key) return kept.candidates;
    const generation = this.generation;
    const candidates = await this.choices.competitors(productId, key);
    if (generation === this.generation) this.kept.set(productId, { key, candidates });
    return candidates;
  }

  forget(productId: string): void {
    this.generation++;
    this.kept.delete(productId);
  }

  forgetAll(): void {
    this.generation++;
    this.kept.clear();
  }

  async close(): Promise<void> {
    await this.changes?.close();
  }
}
