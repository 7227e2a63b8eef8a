import { announcePromotion, MODELS } from "../registry/index.js";
import { noParameters, type JobHandler } from "../jobs/index.js";
import { trainFromDatabase } from "./training.js";

/** Trains the match model on the interactions in PostgreSQL; a promotion reaches every server through Redis. */
export const trainMatch: JobHandler = {
  jobType: "training",
  kind: "match",
  checkParameters: noParameters,
  async run(ctx) {
    const outcome = await trainFromDatabase(ctx.sql, {
      force: ctx.job.forcePromote,
      signal: ctx.signal,
      progress: (p, m) => void ctx.progress(p, m),
    });
    if (outcome.promoted) await announcePromotion(ctx, ctx.redisPrefix, MODELS.match, outcome.version);
    return {
      model: MODELS.match,
      version: outcome.version,
      promoted: outcome.promoted,
      reason: outcome.reason,
      auc: outcome.metrics.v1.auc,
      log_loss: outcome.metrics.v1.logLoss,
      baseline_auc: outcome.metrics.v0.auc,
    };
  },
};

/** Match's jobs: training the model. */
export const matchJobs: readonly JobHandler[] = [trainMatch];
