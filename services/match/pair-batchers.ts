import type { MeshConfig } from "../runtime/config.js";
import { DynamicBatcher } from "../runtime/batcher.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import { MODELS } from "../registry/index.js";
import type { MatchContextInput, ProfileFeatures } from "./features/pair-features.js";
import type { LoadedModel } from "./serving-model.js";

/** A pair to score in a batch. */
export interface Pair {
  a: ProfileFeatures;
  b: ProfileFeatures;
  context: MatchContextInput | undefined;
}

/** A pair's score, beside the feature row it was computed from (row `offset` of the batch's input). */
export interface ScoredPair {
  score: number;
  features: Float32Array;
  offset: number;
}

/**
 * ScoreMatch pairs coalesced into model runs (MATCH_BATCH_MAX, MATCH_BATCH_WAIT_MS),
 * one batcher per model: a batch is scored by the version its requests were
 * routed to (an A/B arm, or before and after a swap).
 */
export class PairBatchers {
  private readonly batchers = new WeakMap<LoadedModel, DynamicBatcher<Pair, ScoredPair>>();
  // Metric children looked up once, not per batch.
  private readonly executions: { inc(): void };
  private readonly batchSizes: { observe(v: number): void };
  private readonly queueTimes: { observe(v: number): void };
  private readonly computeTimes: { observe(v: number): void };

  constructor(
    private readonly config: Pick<MeshConfig, "matchBatchMax" | "matchBatchWaitMs">,
    metrics: MeshMetrics,
  ) {
    this.executions = metrics.modelExecutions.labels(MODELS.match);
    this.batchSizes = metrics.batchSize.labels(MODELS.match);
    this.queueTimes = metrics.batchQueueSeconds.labels(MODELS.match);
    this.computeTimes = metrics.batchComputeSeconds.labels(MODELS.match);
  }

  /** Scores a pair with the model, in a batch with the pairs that arrive with it. */
  score(model: LoadedModel, pair: Pair): Promise<ScoredPair> {
    let b = this.batchers.get(model);
    if (!b) this.batchers.set(model, (b = this.batcher(model)));
    return b.submit(pair);
  }

  private batcher(model: LoadedModel): DynamicBatcher<Pair, ScoredPair> {
    return new DynamicBatcher<Pair, ScoredPair>({
      maxBatch: this.config.matchBatchMax,
      maxWaitMs: this.config.matchBatchWaitMs,
      // Features are written straight into the batch's input: one typed array per batch, not per request.
      // Rows of the model's own feature set: a v1 version still serving reads v1 rows, a v2 version v2 rows.
      run: async (pairs) => {
        const { count, write } = model.features;
        const x = new Float32Array(pairs.length * count);
        for (let i = 0; i < pairs.length; i++) write(pairs[i].a, pairs[i].b, pairs[i].context, x, i * count);
        this.executions.inc();
        const scores = await model.score(x, pairs.length);
        return pairs.map((_, i) => ({ score: scores[i], features: x, offset: i * count }));
      },
      observe: ({ size, queueSeconds, computeSeconds }) => {
        this.batchSizes.observe(size);
        for (const q of queueSeconds) this.queueTimes.observe(q);
        this.computeTimes.observe(computeSeconds);
      },
    });
  }
}
