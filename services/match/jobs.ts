import { announcePromotion, MODELS } from "../registry/index.js";
import { checkKnown, integerIn, isUuid, numberIn, type JobHandler } from "../jobs/index.js";
import { MeshMetrics } from "../runtime/metrics.js";
import { PRECOMPUTE_DEFAULTS, precomputeMatches } from "./precompute.js";
import { loadServingModel } from "./serving-model.js";
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
    checkParameters: (p) => checkKnown(p, { l2: numberIn(0, 1_000_000), iterations: integerIn(1, 100) }),
    async run(ctx) {
      const p = ctx.job.parameters;
      const outcome = await trainFromDatabase(ctx.sql, {
        parameters: {
          ...(p.l2 !== undefined && { l2: p.l2 as number }),
          ...(p.iterations !== undefined && { iterations: p.iterations as number }),
        },
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
        feature_set: outcome.featureSet,
        auc: outcome.metrics.candidate.auc,
        log_loss: outcome.metrics.candidate.logLoss,
        baseline_auc: outcome.metrics.v0.auc,
      };
    },
  };
}

/**
 * Precomputes every traveller's (or the listed ones') top-K nearby matches
 * with the serving match model into match_precomputed, which a feed reads
 * (ListPrecomputedMatches). Incremental: a rerun rewrites only the rows whose
 * traveller, candidates, model or parameters changed; `full: true` rewrites
 * all. Each row is an upsert, so a rerun after a crash is harmless.
 */
export const scoreCandidatesJob: JobHandler = {
  jobType: "inference",
  kind: "score_candidates",
  checkParameters: (p) =>
    checkKnown(p, {
      user_ids: (v) =>
        Array.isArray(v) && v.length <= 100_000 && v.every((id) => typeof id === "string" && isUuid(id))
          ? undefined
          : "must be a list of traveller ids (UUIDs)",
      top_k: integerIn(1, 200),
      radius_km: integerIn(1, 500),
      max_candidates: integerIn(1, 5000),
      full: (v) => (typeof v === "boolean" ? undefined : "must be a boolean"),
    }),
  async run(ctx) {
    const p = ctx.job.parameters;
    // The version every server serves (promoted in the registry), or v0 when none is.
    const model = await loadServingModel(ctx.sql, new MeshMetrics());
    try {
      const outcome = await precomputeMatches(
        ctx.sql,
        model,
        {
          topK: (p.top_k as number | undefined) ?? PRECOMPUTE_DEFAULTS.topK,
          radiusKm: (p.radius_km as number | undefined) ?? PRECOMPUTE_DEFAULTS.radiusKm,
          maxCandidates: (p.max_candidates as number | undefined) ?? PRECOMPUTE_DEFAULTS.maxCandidates,
          userIds: p.user_ids as string[] | undefined,
          full: p.full === true,
        },
        { signal: ctx.signal, progress: (pc, m) => ctx.progress(pc, m) },
      );
      return { ...outcome, model_version: model.version };
    } finally {
      await model.release();
    }
  },
};

/** Match's jobs: training the model, and precomputing travellers' matches for a feed. */
export const matchJobs: readonly JobHandler[] = [matchTrainingJob(), scoreCandidatesJob];
