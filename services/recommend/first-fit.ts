import type { ServingSlot } from "../registry/index.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
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

  /** `databaseUrl` is the database `sql` reaches: the fitting thread opens its own connection to it. */
  constructor(sql: Sql, databaseUrl: string, serving: ServingSlot<Recommender>) {
    this.done = this.fit(sql, databaseUrl, serving);
  }

  private async fit(sql: Sql, databaseUrl: string, serving: ServingSlot<Recommender>): Promise<void> {
    try {
      const outcome = await trainRecommendModel(sql, { onThread: { databaseUrl } });
      if (!serving.current) {
        const fitted = await loadRecommender(sql, outcome.version);
        if (fitted) serving.fill(fitted);
      }
    } catch (err) {
      this.failure = (err as Error).message;
      log.error("could not train the recommendation model", { error: this.failure });
    }
  }
}
