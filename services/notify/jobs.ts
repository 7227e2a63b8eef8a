import { announcePromotion, MODELS } from "../registry/index.js";
import { checkKnown, integerIn, type JobHandler } from "../jobs/index.js";
import { trainNotifyPrior } from "./training.js";

/**
 * Fits the population's engagement prior and stores it in the registry; a
 * promotion reaches every server through Redis, and they serve the stored
 * prior instead of learning it themselves. Reading a sample of activity and
 * summing it is light (5,000 travellers by default), so it runs in the worker.
 */
export const trainNotify: JobHandler = {
  jobType: "training",
  kind: "notify",
  checkParameters: (p) => checkKnown(p, { sample_travellers: integerIn(10, 1_000_000), holdout_percent: integerIn(5, 50) }),
  async run(ctx) {
    const p = ctx.job.parameters;
    const outcome = await trainNotifyPrior(ctx.sql, {
      force: ctx.job.forcePromote,
      parameters: {
        ...(p.sample_travellers !== undefined && { sampleTravellers: p.sample_travellers as number }),
        ...(p.holdout_percent !== undefined && { holdoutPercent: p.holdout_percent as number }),
      },
      progress: (pc, m) => void ctx.progress(pc, m),
    });
    if (outcome.promoted) await announcePromotion(ctx, ctx.redisPrefix, MODELS.notify, outcome.version);
    return {
      model: MODELS.notify,
      version: outcome.version,
      promoted: outcome.promoted,
      reason: outcome.reason,
      held_out_log_likelihood: outcome.metrics.heldOutLogLikelihood,
      uniform_log_likelihood: outcome.metrics.uniformLogLikelihood,
    };
  },
};

/** Notify's jobs: training the population's prior. */
export const notifyJobs: readonly JobHandler[] = [trainNotify];
