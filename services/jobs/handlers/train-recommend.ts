import { trainRecommendModel } from "../../recommend/training.js";
import { announcePromotion, MODELS } from "../../registry/index.js";
import type { JobHandler } from "../handler.js";
import { noParameters } from "./parameters.js";

/** Trains the recommendation model on the interactions in PostgreSQL; a promotion reaches every server through Redis. */
export const trainRecommend: JobHandler = {
  jobType: "training",
  kind: "recommend",
  checkParameters: noParameters,
  async run(ctx) {
    const outcome = await trainRecommendModel(ctx.sql, { force: ctx.job.forcePromote, signal: ctx.signal, progress: (p, m) => void ctx.progress(p, m) });
    if (outcome.promoted) await announcePromotion(ctx, ctx.redisPrefix, MODELS.recommend, outcome.version);
    return {
      model: MODELS.recommend,
      version: outcome.version,
      promoted: outcome.promoted,
      reason: outcome.reason,
      recall_at_10: outcome.metrics.model.recallAt10,
      ndcg_at_10: outcome.metrics.model.ndcgAt10,
      baseline_recall_at_10: outcome.metrics.popularity.recallAt10,
    };
  },
};
