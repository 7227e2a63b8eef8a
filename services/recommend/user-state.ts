import type { Redis } from "ioredis";
import { LruCache } from "../runtime/lru.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import type { Recommender, UserState } from "./recommender.js";
import { loadTraveller } from "./store.js";

const TTL_SECONDS = 3600;
const CACHE = "recommend_user";

/**
 * Per-traveller state (their folded-in vector, booked places, home), computed
 * from PostgreSQL and cached in process (a minute) and in Redis (an hour),
 * under the model version, so a retrained model never reads vectors of
 * another. New interactions, whoever writes them, are announced by PostgreSQL
 * and drop both copies on every server (see forget). With Redis down it is
 * computed every time (and the bypass counted).
 */
export class UserStateStore {
  private readonly local = new LruCache<{ version: string; state: UserState }>(100_000, 60_000);

  constructor(
    private readonly sql: Sql,
    private readonly redis: Redis,
    private readonly metrics?: MeshMetrics,
  ) {}

  private key(recommender: Recommender, userId: string): string {
    return `mlmesh:recommend:${recommender.version}:user:${userId}`;
  }

  /** Computes and stores a traveller's state (batch precomputation); false when no such traveller exists. Throws if Redis does. */
  async refresh(recommender: Recommender, userId: string): Promise<boolean> {
    const traveller = await loadTraveller(this.sql, userId);
    if (!traveller) return false;
    await this.redis.set(this.key(recommender, userId), JSON.stringify(recommender.userState(traveller)), "EX", TTL_SECONDS);
    return true;
  }

  /** Drops a traveller's state here and, for the serving version, in Redis (their interactions changed). */
  forget(recommender: Recommender | undefined, userId: string): void {
    this.local.delete(userId);
    if (recommender && this.redis.status === "ready") this.redis.del(this.key(recommender, userId)).catch(() => undefined);
  }

  /** The state, or undefined when no such traveller exists. */
  async get(recommender: Recommender, userId: string): Promise<UserState | undefined> {
    const local = this.local.get(userId);
    if (local?.version === recommender.version) {
      this.metrics?.cacheHits.labels(`${CACHE}_local`).inc();
      return local.state;
    }
    const state = await this.shared(recommender, userId);
    if (state) this.local.set(userId, { version: recommender.version, state });
    return state;
  }

  private async shared(recommender: Recommender, userId: string): Promise<UserState | undefined> {
    const key = this.key(recommender, userId);
    if (this.redis.status === "ready") {
      try {
        const cached = await this.redis.get(key);
        if (cached) {
          this.metrics?.cacheHits.labels(CACHE).inc();
          return JSON.parse(cached) as UserState;
        }
      } catch {
        this.metrics?.cacheBypasses.labels(CACHE).inc();
      }
    } else {
      this.metrics?.cacheBypasses.labels(CACHE).inc();
    }
    this.metrics?.cacheMisses.labels(CACHE).inc();
    const traveller = await loadTraveller(this.sql, userId);
    if (!traveller) return undefined;
    const state = recommender.userState(traveller);
    // The caller does not wait for the cache write: the state is already in hand.
    if (this.redis.status === "ready") this.redis.set(key, JSON.stringify(state), "EX", TTL_SECONDS).catch(() => undefined);
    return state;
  }
}
