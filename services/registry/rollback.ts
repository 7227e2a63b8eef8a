import type { Redis } from "ioredis";
import type { Sql } from "../runtime/storage/database.js";
import { modelsChannel } from "./channels.js";
import { ModelRegistry } from "./registry.js";

/**
 * Withdraws a model's serving version and tells every server: they load the
 * version promoted before it (or their baseline if none is left) and swap it
 * in as they do on a promotion. `redisPrefix` is MLMESH_REDIS_PREFIX (it names the channel).
 */
export async function rollbackModel(sql: Sql, redis: Redis, model: string, redisPrefix: string): Promise<{ from: number; to: number | undefined }> {
  const outcome = await new ModelRegistry(sql).rollback(model);
  await redis.publish(modelsChannel(redisPrefix), `${model}:${outcome.to ?? 0}`);
  return outcome;
}
