import { modelsChannel } from "../../registry/channels.js";
import { RECOMMEND_MODEL, trainRecommendModel } from "../../recommend/training.js";
import type { JobHandler } from "../handler.js";
import { noParameters } from "./parameters.js";

/** Trains the recommendation model on the interactions in PostgreSQL; a promotion reaches every server through Redis. */
export const trainRecommend: JobHandler = {
  jobType: "training",
  kind: "recommend",
  checkParameters: noParameters,
  async run(ctx) {
    const outcome = await trainRecommendModel(ctx.sql, { force: ctx.job.forcePromote, signal: ctx.signal, progress: (p, m) => void ctx.progress(p, m) });
    if (outcome.promoted) await ctx.publish(modelsChannel(ctx.redisPrefix), `${RECOMMEND_MODEL}:${outcome.version}`);
    return {
      model: RECOMMEND_MODEL,
      version: outcome.version,
      promoted: outcome.promoted,
      reason: outcome.reason,
      recall_at_10: outcome.metrics.model.recallAt10,
      ndcg_at_10: outcome.metrics.model.ndcgAt10,
      baseline_recall_at_10: outcome.metrics.popularity.recallAt10,
    };
  },
};
