import { announcePromotion, MODELS } from "../registry/index.js";
import { checkKnown, integerIn, isUuid, numberIn, type JobHandler } from "../jobs/index.js";
import { loadRecommender, trainRecommendModel } from "./training.js";
import { UserStateStore } from "./user-state.js";

/**
 * Trains the recommendation model on the interactions in PostgreSQL; a
 * promotion reaches every server through Redis. The reading and fitting run on
 * a thread of their own, so the worker keeps renewing the job's lock however
 * long the fit takes.
 */
export const trainRecommend: JobHandler = {
  jobType: "training",
  kind: "recommend",
  checkParameters: (p) =>
    checkKnown(p, {
      factors: integerIn(1, 512),
      regularisation_lambda: numberIn(0, 1_000_000, true),
      confidence_alpha: numberIn(0, 1000),
      iterations: integerIn(1, 100),
    }),
  async run(ctx) {
    const p = ctx.job.parameters as Record<string, number | undefined>;
    const outcome = await trainRecommendModel(ctx.sql, {
      parameters: {
        ...(p.factors !== undefined && { factors: p.factors }),
        ...(p.regularisation_lambda !== undefined && { regularisationLambda: p.regularisation_lambda }),
        ...(p.confidence_alpha !== undefined && { confidenceAlpha: p.confidence_alpha }),
        ...(p.iterations !== undefined && { iterations: p.iterations }),
      },
      force: ctx.job.forcePromote,
      signal: ctx.signal,
      progress: (p, m) => void ctx.progress(p, m),
      onThread: { databaseUrl: ctx.databaseUrl },
    });
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

/**
 * Computes travellers' recommendation state (their vector folded in against
 * the serving model) and writes it to the Redis entries RecommendDestinations
 * reads, so the first request of the day costs a cache read. Every traveller
 * with history by default, or the listed ones. Rewriting an entry is harmless,
 * so a rerun after a crash is too.
 */
export const precomputeRecommendations: JobHandler = {
  jobType: "inference",
  kind: "precompute_recommendations",
  checkParameters: (p) =>
    checkKnown(p, {
      user_ids: (v) =>
        Array.isArray(v) && v.length <= 100_000 && v.every((id) => typeof id === "string" && isUuid(id))
          ? undefined
          : "must be a list of traveller ids (UUIDs)",
    }),
  async run(ctx) {
    const recommender = await loadRecommender(ctx.sql);
    if (!recommender) throw new Error("no promoted recommendation model: train one first (mlmesh train recommend)");
    const listed = ctx.job.parameters.user_ids as string[] | undefined;
    const ids =
      listed ??
      (await ctx.sql<{ user_id: string }[]>`select distinct user_id::text from destination_interactions order by 1`).map((r) => r.user_id);
    const store = new UserStateStore(ctx.sql, ctx.redis, ctx.redisPrefix);
    let written = 0;
    const missing: string[] = [];
    for (const [i, id] of ids.entries()) {
      ctx.signal.throwIfAborted();
      if (await store.refresh(recommender, id)) written++;
      else missing.push(id);
      if (i % 100 === 99 || i === ids.length - 1)
        await ctx.progress(Math.floor((100 * (i + 1)) / ids.length), `${i + 1} of ${ids.length} travellers`);
    }
    return {
      travellers: ids.length,
      written,
      missing: missing.length,
      missing_ids: missing.slice(0, 20),
      model_version: recommender.version,
    };
  },
};

/** Recommend's jobs: training the model, and precomputing travellers' state for the serving path. */
export const recommendJobs: readonly JobHandler[] = [trainRecommend, precomputeRecommendations];
