import { ModelRegistry, MODELS } from "../registry/index.js";
import { seededHash } from "../numeric/hash.js";
import type { Sql } from "../runtime/storage/database.js";
import type { PopulationPrior } from "./model/engagement.js";
import { hourOfWeek } from "./model/local-time.js";
import { loadActivitySample, priorOf, type TravellerActivity } from "./prior.js";

/** What a notify training may be given; defaults are what serving used when it learned the prior itself. */
export interface NotifyTrainingParameters {
  /** Travellers the prior is learned from (the first N by id). */
  sampleTravellers: number;
  /** Share of those travellers (in percent) held out to evaluate the prior fitted on the rest. */
  holdoutPercent: number;
}

/**
 * How much a new prior's held-out log-likelihood (nats per event) must beat the serving one's by. The
 * prior is recency-weighted, so a retraining on the same activity a moment later scores a hair
 * differently: without a margin, versions would churn on that drift alone.
 */
export const PROMOTION_MIN_GAIN = 1e-3;

export const NOTIFY_TRAINING_DEFAULTS: NotifyTrainingParameters = { sampleTravellers: 5000, holdoutPercent: 20 };

/** What the registry holds for a notify version: the prior itself, as JSON. */
export const PRIOR_FORMAT = "population-prior-v1";

export interface NotifyTrainingOutcome {
  version: number;
  promoted: boolean;
  reason: string;
  metrics: NotifyMetrics;
}

export interface NotifyMetrics {
  /** Mean log-probability, per held-out event, of its local hour of the week under the prior fitted without those travellers. */
  heldOutLogLikelihood: number;
  /** The same under a uniform hour of the week: what a prior must beat to be worth serving. */
  uniformLogLikelihood: number;
  heldOutTravellers: number;
  heldOutEvents: number;
}

// Mixed into the prior when scoring, so an hour nobody in the fitting set was active at is unlikely, not impossible.
const UNIFORM_MIX = 0.01;
const HOLDOUT_SEED = 0x6e6f7469;

/**
 * Fits the population's engagement prior (the hour-of-week and channel
 * habits serving shrinks every traveller toward), evaluates it on travellers
 * it was not fitted on, stores the prior fitted on everyone in the registry
 * with that evaluation and the parameters, and promotes it when it beats a
 * uniform prior and the serving version's held-out log-likelihood (or when
 * forced): the same compare-and-set every training promotes through.
 */
export async function trainNotifyPrior(
  sql: Sql,
  options: {
    parameters?: Partial<NotifyTrainingParameters>;
    force?: boolean;
    now?: number;
    progress?: (p: number, m: string) => void;
  } = {},
): Promise<NotifyTrainingOutcome> {
  const parameters = { ...NOTIFY_TRAINING_DEFAULTS, ...options.parameters };
  const progress = options.progress ?? (() => undefined);
  const now = options.now ?? Date.now();
  progress(5, "reading activity");
  const travellers = await loadActivitySample(sql, now, parameters.sampleTravellers);
  progress(50, `fitting the prior on ${travellers.length} travellers`);
  const held = (u: TravellerActivity) => seededHash(HOLDOUT_SEED, u.userId) % 100 < parameters.holdoutPercent;
  const metrics = evaluate(
    priorOf(
      travellers.filter((u) => !held(u)),
      now,
    ),
    travellers.filter(held),
    now,
  );
  if (metrics.heldOutEvents === 0)
    throw new Error(
      `no held-out activity to evaluate a prior on (${travellers.length} travellers with activity): seed or record activity, or raise holdout_percent`,
    );
  const prior = priorOf(travellers, now);
  progress(85, "storing");
  const registry = new ModelRegistry(sql);
  const version = await registry.save({
    model: MODELS.notify,
    artefact: new TextEncoder().encode(JSON.stringify(prior)),
    metadata: {
      kind: PRIOR_FORMAT,
      parameters: { sample_travellers: parameters.sampleTravellers, holdout_percent: parameters.holdoutPercent },
    },
    metrics: metrics as unknown as Record<string, unknown>,
    dataSummary: { travellers: travellers.length, events: travellers.reduce((n, u) => n + u.events.length, 0) },
  });
  let promoted = false;
  let reason: string;
  const ll = metrics.heldOutLogLikelihood;
  if (!options.force && !(ll > metrics.uniformLogLikelihood)) {
    reason = `held-out log-likelihood ${ll.toFixed(4)} does not beat a uniform prior (${metrics.uniformLogLikelihood.toFixed(4)})`;
  } else {
    const outcome = await registry.promoteIfBetter(MODELS.notify, version, {
      force: options.force,
      score: heldOutLogLikelihood,
      minGain: PROMOTION_MIN_GAIN,
    });
    promoted = outcome.promoted;
    const serving = outcome.serving;
    if (options.force) reason = "forced";
    else if (!serving) reason = "first version";
    else if (promoted) reason = `held-out log-likelihood ${ll.toFixed(4)} beats version ${serving.version} (${serving.score.toFixed(4)})`;
    else
      reason = `held-out log-likelihood ${ll.toFixed(4)} does not beat serving version ${serving.version} (${serving.score.toFixed(4)}) by ${PROMOTION_MIN_GAIN}`;
  }
  progress(100, promoted ? `promoted version ${version}` : `kept the serving version: ${reason}`);
  return { version, promoted, reason, metrics };
}

/** The prior a registry version holds, or undefined if it holds something else. */
export function priorFromArtefact(metadata: Record<string, unknown>, artefact: Uint8Array): PopulationPrior | undefined {
  if (metadata.kind !== PRIOR_FORMAT) return undefined;
  const prior = JSON.parse(new TextDecoder().decode(artefact)) as PopulationPrior;
  return Array.isArray(prior.hours) && prior.hours.length === 168 && prior.channels ? prior : undefined;
}

/** How likely the held-out travellers' activity hours are under a prior, per event. */
function evaluate(prior: PopulationPrior, heldOut: readonly TravellerActivity[], now: number): NotifyMetrics {
  let sum = 0;
  let events = 0;
  for (const u of heldOut)
    for (const e of u.events) {
      if (e.at > now) continue;
      sum += Math.log((1 - UNIFORM_MIX) * prior.hours[hourOfWeek(e.at, u.prefs.timezone)] + UNIFORM_MIX / 168);
      events++;
    }
  return {
    heldOutLogLikelihood: events ? sum / events : 0,
    uniformLogLikelihood: Math.log(1 / 168),
    heldOutTravellers: heldOut.length,
    heldOutEvents: events,
  };
}

function heldOutLogLikelihood(metrics: Record<string, unknown>): number | undefined {
  const v = (metrics as Partial<NotifyMetrics>).heldOutLogLikelihood;
  return typeof v === "number" ? v : undefined;
}
