import { MODELS } from "../registry/index.js";
import { MeshError } from "../runtime/errors.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { LoadedModel } from "./serving-model.js";

type Count = { inc(): void };
type Observe = { observe(value: number): void };

/**
 * What MatchScoring counts of its calls. The metric children are looked up
 * once, not per call: a label lookup per call is measurable at these rates.
 */
export class MatchMetrics {
  readonly predictionHits: Count;
  readonly predictionMisses: Count;
  /** Model runs outside the batcher (one traveller against many), and their sizes. */
  readonly executions: Count;
  readonly batchSizes: Observe;
  private readonly requests: Count;
  private readonly duration: Observe;
  private readonly errors: Count;
  private readonly perVersion = new Map<string, Count>();

  constructor(private readonly metrics: MeshMetrics) {
    this.requests = metrics.inferenceRequests.labels(MODELS.match);
    this.duration = metrics.inferenceDuration.labels(MODELS.match);
    this.errors = metrics.inferenceErrors.labels(MODELS.match);
    this.predictionHits = metrics.cacheHits.labels("match_prediction");
    this.predictionMisses = metrics.cacheMisses.labels("match_prediction");
    this.executions = metrics.modelExecutions.labels(MODELS.match);
    this.batchSizes = metrics.batchSize.labels(MODELS.match);
  }

  /** Counts a call and times it; an error that is not the mesh's own (a bug, not a refusal) is counted too. */
  track<T>(fn: () => Promise<T>): Promise<T> {
    this.requests.inc();
    const started = performance.now();
    return fn().then(
      (v) => {
        this.duration.observe((performance.now() - started) / 1000);
        return v;
      },
      (e) => {
        this.duration.observe((performance.now() - started) / 1000);
        if (!(e instanceof MeshError)) this.errors.inc();
        throw e;
      },
    );
  }

  /** Counts a request per model version, so the arms of an A/B split can be compared. */
  answeredBy(model: LoadedModel): LoadedModel {
    let c = this.perVersion.get(model.version);
    if (!c) this.perVersion.set(model.version, (c = this.metrics.modelVersionRequests.labels(MODELS.match, model.version)));
    c.inc();
    return model;
  }
}
