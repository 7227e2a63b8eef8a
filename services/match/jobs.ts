import { announcePromotion, MODELS } from "../registry/index.js";
import { noParameters, type JobHandler } from "../jobs/index.js";
import { MATCH_TRAINING_THREAD, trainFromDatabase } from "./training.js";

/**
 * Trains the match model on the interactions in PostgreSQL; a promotion
 * reaches every server through Redis. The reading and fitting run on a thread
 * of their own (`threadModule`, the real one unless a test wraps it), so the
 * worker keeps renewing the job's lock however long the fit takes.
 */
export function matchTrainingJob(threadModule: URL = MATCH_TRAINING_THREAD): JobHandler {
  return {
    jobType: "training",
    kind: "match",
    checkParameters: noParameters,
    async run(ctx) {
      const outcome = await trainFromDatabase(ctx.sql, {
        force: ctx.job.forcePromote,
        signal: ctx.signal,
        progress: (p, m) => void ctx.progress(p, m),
        onThread: { databaseUrl: ctx.databaseUrl, module: threadModule },
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
}

/** Match's jobs: training the model. */
export const matchJobs: readonly JobHandler[] = [matchTrainingJob()];
