import { trainFromDatabase } from "../services/match/training.js";
import { trainNotifyPrior } from "../services/notify/training.js";
import { trainRecommendModel } from "../services/recommend/training.js";
import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { connectRedis } from "../services/runtime/storage/redis.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { announcePromotion, isModelName, MODELS } from "../services/registry/index.js";
import { parseArgs } from "./args.js";
import { CliUsageError, ExitCode } from "./exit.js";

export const trainUsage = `mlmesh train MODEL [--force]

Trains a model on the data in DATABASE_URL (or the embedded PGlite), stores it in
the model registry with its evaluation, and promotes it when it beats the serving
version (or with --force). Running servers hear of the promotion on Redis and swap
it in. Models: match, recommend, notify. Exit code 0 when trained (promoted or not).`;

export async function train(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { force: "boolean" });
  const [model] = positional;
  if (!isModelName(model))
    throw new CliUsageError(`train: unknown or unbuilt model '${model ?? ""}' (built: ${Object.values(MODELS).join(", ")})`);
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  const progress = (p: number, m: string) => process.stderr.write(`[${String(p).padStart(3)}%] ${m}\n`);
  const force = options.force === true;
  try {
    await migrate(db.sql);
    let version: number;
    let promoted: boolean;
    if (model === MODELS.match) {
      const outcome = await trainFromDatabase(db.sql, { force, progress });
      const { v0, v1, v2 } = outcome.metrics;
      ({ version, promoted } = outcome);
      process.stdout.write(
        `version ${version} (${outcome.featureSet}): v2 AUC ${v2.auc.toFixed(4)} log-loss ${v2.logLoss.toFixed(4)}; ` +
          `v1 AUC ${v1.auc.toFixed(4)} log-loss ${v1.logLoss.toFixed(4)}; ` +
          `v0 AUC ${v0.auc.toFixed(4)} log-loss ${v0.logLoss.toFixed(4)}; ${promoted ? "promoted" : "not promoted"} (${outcome.reason})\n`,
      );
    } else if (model === MODELS.notify) {
      const outcome = await trainNotifyPrior(db.sql, { force, progress });
      const m = outcome.metrics;
      ({ version, promoted } = outcome);
      process.stdout.write(
        `version ${version}: held-out log-likelihood ${m.heldOutLogLikelihood.toFixed(4)} (uniform ${m.uniformLogLikelihood.toFixed(4)}); ` +
          `${promoted ? "promoted" : "not promoted"} (${outcome.reason})\n`,
      );
    } else {
      const outcome = await trainRecommendModel(db.sql, { force, progress });
      const { model: m, popularity: p } = outcome.metrics;
      ({ version, promoted } = outcome);
      process.stdout.write(
        `version ${version}: recall@10 ${m.recallAt10.toFixed(4)} NDCG@10 ${m.ndcgAt10.toFixed(4)}; ` +
          `popularity ${p.recallAt10.toFixed(4)} / ${p.ndcgAt10.toFixed(4)}; ${promoted ? "promoted" : "not promoted"} (${outcome.reason})\n`,
      );
    }
    if (promoted) {
      const redis = connectRedis(config.redisUrl, "train");
      await announcePromotion(redis, config.redisPrefix, model, version).catch(() => undefined);
      redis.disconnect();
    }
    return ExitCode.OK;
  } finally {
    await db.close();
  }
}
