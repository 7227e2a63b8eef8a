import type { Redis } from "ioredis";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { TieredCache } from "../runtime/storage/tiered-cache.js";
import type { ProfileFeatures } from "./features/pair-features.js";
import type { ProfileStore } from "./profile-store.js";
import { loadTravellers, toProfile } from "./store/profiles.js";

/**
 * Per-traveller features: first from the profile store (every traveller, in
 * process, once filled; see profile-store.ts), then in process (200,000 for
 * ten minutes) and in Redis (an hour), then PostgreSQL. What the store lacks
 * is handed back to it once read. A changed or removed profile, whoever
 * changed it, is announced by PostgreSQL and every server drops it from all
 * three (see forget). With Redis down, lookups go to PostgreSQL and the
 * bypass is counted.
 */
export class ProfileCache {
  private readonly cache: TieredCache<ProfileFeatures>;

  constructor(
    private readonly sql: Sql,
    redis: Redis,
    metrics: MeshMetrics,
    /** MLMESH_REDIS_PREFIX: profiles live under `<prefix>:match:profile:<id>`. */
    redisPrefix: string,
    /** The profile store in front (MATCH_PROFILE_STORE); without it, the two cache levels alone. */
    private readonly store?: ProfileStore,
  ) {
    this.cache = new TieredCache(redis, metrics, "match_profile", {
      redisKeyPrefix: `${redisPrefix}:match:profile:`,
      localEntries: 200_000,
      localTtlMs: 10 * 60_000,
    });
  }

  /** Profiles by id; ids not found are absent from the map. Synchronous when every id is in process. */
  get(ids: readonly string[]): Map<string, ProfileFeatures> | Promise<Map<string, ProfileFeatures>> {
    if (!this.store) return this.fromCache(ids);
    const found = new Map<string, ProfileFeatures>();
    const missing = this.store.getMany(ids, found);
    if (!missing) return found;
    return this.fallBack(missing, found, this.store);
  }

  /**
   * Whether every traveller's profile is in process (the store is on and
   * filled): then a caller with many ids to look up need not read rows for
   * them. A traveller changed since is read again on get, as ever.
   */
  holdsEveryone(): boolean {
    return this.store?.isFilled() === true;
  }

  /** Drops a profile here and in Redis (it changed). */
  forget(id: string): void {
    this.store?.forget(id);
    this.cache.forget(id);
  }

  /** Drops every profile here and in Redis (changes may have been missed). */
  forgetAll(): void {
    this.store?.forgetAll();
    this.cache.forgetAll();
  }

  private fromCache(ids: readonly string[]): Map<string, ProfileFeatures> | Promise<Map<string, ProfileFeatures>> {
    return this.cache.getMany(
      ids,
      async (missing) => new Map((await loadTravellers(this.sql, missing)).map((row) => [row.id, toProfile(row)])),
    );
  }

  private async fallBack(
    missing: string[],
    found: Map<string, ProfileFeatures>,
    store: ProfileStore,
  ): Promise<Map<string, ProfileFeatures>> {
    const mark = store.beginRead();
    try {
      const read = await this.fromCache(missing);
      store.learn(mark, read.values());
      for (const [id, p] of read) found.set(id, p);
      return found;
    } finally {
      store.doneRead();
    }
  }
}
