import type { ServingSlot } from "../registry/index.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import { WorkerPool } from "../runtime/worker-pool.js";
import type { Factorisation, TrainingData } from "./factorisation.js";
import type { Recommender } from "./recommender.js";
import { loadRecommender, trainRecommendModel } from "./training.js";

/**
 * The model of a server that found none promoted: fitted on a worker thread
 * (half a minute of ALS at 50,000 active travellers must not stall every other
 * call) and stored in the registry, then served unless a promoted one arrived
 * first. Not promoted (it did not beat popularity) is logged by training; it
 * still answers better than nothing.
 */
export class FirstFit {
  /** Why the fit failed (no destinations seeded, say); the RPC reports it. */
  failure: string | undefined;
  readonly done: Promise<void>;

  constructor(sql: Sql, serving: ServingSlot<Recommender>) {
    this.done = this.fit(sql, serving);
  }

  private async fit(sql: Sql, serving: ServingSlot<Recommender>): Promise<void> {
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    const pool = new WorkerPool(new URL(`./fit.${ext}`, import.meta.url), 1);
    try {
      const outcome = await trainRecommendModel(sql, { fit: (data: TrainingData) => pool.run<Factorisation>("fit", data) });
      if (!serving.current) {
        const fitted = await loadRecommender(sql, outcome.version);
        if (fitted) serving.fill(fitted);
      }
    } catch (err) {
      this.failure = (err as Error).message;
      log.error("could not train the recommendation model", { error: this.failure });
    } finally {
      await pool.close();
    }
  }
}
