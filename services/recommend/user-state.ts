import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { TieredCache } from "../runtime/storage/tiered-cache.js";
import type { Recommender, UserState } from "./recommender.js";
import { loadTraveller } from "./store.js";

/**
 * Per-traveller state (their folded-in vector, booked places, home), computed
 * from PostgreSQL and cached in process (a minute) and in Redis (an hour),
 * under the model version, so a retrained model never reads vectors of
 * another. New interactions, whoever writes them, are announced by PostgreSQL
 * and drop both copies on every server (see forget). With Redis down it is
 * computed every time (and the bypass counted).
 */
export class UserStateStore {
  private readonly cache: TieredCache<UserState>;

  constructor(
    private readonly sql: Sql,
    redis: Redis,
    /** MLMESH_REDIS_PREFIX: states live under `<prefix>:recommend:<model version>:user:<id>`. */
    redisPrefix: string,
    metrics?: MeshMetrics,
  ) {
    this.cache = new TieredCache(redis, metrics, "recommend_user", { redisKeyPrefix: `${redisPrefix}:recommend:` });
  }

  private key(recommender: Recommender, userId: string): string {
    return `${recommender.version}:user:${userId}`;
  }

  /** Computes and stores a traveller's state (batch precomputation); false when no such traveller exists. Throws if Redis does. */
  async refresh(recommender: Recommender, userId: string): Promise<boolean> {
    const traveller = await loadTraveller(this.sql, userId);
    if (!traveller) return false;
    await this.cache.put(this.key(recommender, userId), recommender.userState(traveller));
    return true;
  }

  /** Drops a traveller's state for the serving version, here and in Redis (their interactions changed). */
  forget(recommender: Recommender | undefined, userId: string): void {
    if (recommender) this.cache.forget(this.key(recommender, userId));
  }

  /** Drops every traveller's state, for every model version, here and in Redis (changes may have been missed). */
  forgetAll(): void {
    this.cache.forgetAll();
  }

  /** The state, or undefined when no such traveller exists. */
  get(recommender: Recommender, userId: string): Promise<UserState | undefined> {
    return this.cache.get(this.key(recommender, userId), async () => {
      const traveller = await loadTraveller(this.sql, userId);
      return traveller ? recommender.userState(traveller) : undefined;
    });
  }
}
