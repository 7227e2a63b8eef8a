import type { Sql } from "../runtime/storage/database.js";
import { announcePromotion, type Publisher } from "./promotions.js";
import { ModelRegistry } from "./registry.js";

/**
 * Withdraws a model's serving version and tells every server: they load the
 * version promoted before it (or their baseline if none is left) and swap it
 * in as they do on a promotion. `redisPrefix` is MLMESH_REDIS_PREFIX (it names the channel).
 */
export async function rollbackModel(
  sql: Sql,
  redis: Publisher,
  model: string,
  redisPrefix: string,
): Promise<{ from: number; to: number | undefined }> {
  const outcome = await new ModelRegistry(sql).rollback(model);
  await announcePromotion(redis, redisPrefix, model, outcome.to ?? 0);
  return outcome;
}
