import { fnv1a } from "../numeric/hash.js";
import { MODELS } from "../registry/index.js";
import { ConfigError } from "../runtime/config.js";
import { log } from "../runtime/log.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { Sql } from "../runtime/storage/database.js";
import { loadPinnedModel, type LoadedModel } from "./serving-model.js";

/** One side of an A/B split: a registry version, or whatever version is promoted ("serving"). */
export interface ArmSpec {
  version: number | "serving";
  weight: number;
}

/**
 * Reads MLMESH_MODEL_AB_WEIGHTS for one model: {"match": {"serving": 0.9, "7": 0.1}}.
 * Undefined when there is no split for it.
 */
export function abSplit(model: string, raw: string | undefined): ArmSpec[] | undefined {
  if (!raw?.trim()) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError([`MLMESH_MODEL_AB_WEIGHTS is not JSON: ${raw.slice(0, 80)}`]);
  }
  const split = (parsed as Record<string, unknown>)?.[model];
  if (split === undefined) return undefined;
  const problems: string[] = [];
  const arms: ArmSpec[] = [];
  for (const [key, weight] of Object.entries((split ?? {}) as Record<string, unknown>)) {
    const version = key === "serving" ? "serving" : Number(key);
    if (version !== "serving" && !(Number.isInteger(version) && version > 0))
      problems.push(`MLMESH_MODEL_AB_WEIGHTS.${model}: '${key}' is neither "serving" nor a registry version`);
    else if (typeof weight !== "number" || !(weight >= 0))
      problems.push(`MLMESH_MODEL_AB_WEIGHTS.${model}.${key}: the weight must be a number of at least 0`);
    else arms.push({ version, weight });
  }
  if (!problems.length && !(arms.reduce((a, s) => a + s.weight, 0) > 0))
    problems.push(`MLMESH_MODEL_AB_WEIGHTS.${model}: the weights must not all be 0`);
  if (problems.length) throw new ConfigError(problems);
  return arms;
}

/**
 * Which loaded model answers for a user. Without a split, the serving model.
 * With one, a user always lands on the same arm (every replica agrees), so a
 * traveller sees consistent scores while the arms are compared.
 */
export class ModelRouter {
  constructor(
    private readonly serving: () => LoadedModel,
    private readonly arms: readonly { model: LoadedModel | "serving"; weight: number }[] = [],
  ) {}

  /**
   * The router for the match split in MLMESH_MODEL_AB_WEIGHTS (none: every
   * user gets the serving model), with each pinned registry version loaded
   * and warmed. An arm whose version the registry no longer has is dropped,
   * its share going to the other arms.
   */
  static async load(sql: Sql, metrics: MeshMetrics, abWeights: string | undefined, serving: () => LoadedModel): Promise<ModelRouter> {
    const arms: { model: LoadedModel | "serving"; weight: number }[] = [];
    for (const arm of abSplit(MODELS.match, abWeights) ?? []) {
      if (arm.version === "serving") {
        arms.push({ model: "serving", weight: arm.weight });
        continue;
      }
      const loaded = await loadPinnedModel(sql, metrics, arm.version);
      if (!loaded) {
        log.error("A/B arm names a match version the registry does not have: its share goes to the other arms", { version: arm.version });
        continue;
      }
      arms.push({ model: loaded, weight: arm.weight });
    }
    if (arms.length)
      log.info("match A/B split", {
        arms: arms.map((a) => ({ version: a.model === "serving" ? "serving" : a.model.version, weight: a.weight })),
      });
    return new ModelRouter(serving, arms);
  }

  pick(userKey: string | undefined): LoadedModel {
    if (this.arms.length === 0 || userKey === undefined) return this.serving();
    const total = this.arms.reduce((a, s) => a + s.weight, 0);
    // FNV-1a: cheap, stable across processes and restarts, and well spread over ids.
    let u = (fnv1a(userKey) / 2 ** 32) * total;
    for (const arm of this.arms) {
      if (u < arm.weight) return arm.model === "serving" ? this.serving() : arm.model;
      u -= arm.weight;
    }
    const last = this.arms[this.arms.length - 1].model;
    return last === "serving" ? this.serving() : last;
  }

  /** Releases the pinned versions (the serving one is its slot's). */
  async release(): Promise<void> {
    for (const arm of this.arms) if (arm.model !== "serving") await arm.model.release();
  }
}
