import { trainFromDatabase } from "../services/match/training.js";
import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { connectRedis } from "../services/runtime/storage/redis.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { MODELS_CHANNEL } from "../services/registry/channels.js";
import { parseArgs } from "./args.js";
import { CliUsageError, ExitCode } from "./exit.js";

export const trainUsage = `mlmesh train MODEL [--force]

Trains a model on the data in DATABASE_URL (or the embedded PGlite), stores it in
the model registry with its evaluation, and promotes it when it beats the serving
version (or with --force). Running servers hear of the promotion on Redis and swap
it in. Models: match. Exit code 0 when trained (promoted or not).`;

export async function train(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, { force: "boolean" });
  const [model] = positional;
  if (model !== "match") throw new CliUsageError(`train: unknown or unbuilt model '${model ?? ""}' (built: match)`);
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  try {
    await migrate(db.sql);
    const outcome = await trainFromDatabase(db.sql, {
      force: options.force === true,
      progress: (p, m) => process.stderr.write(`[${String(p).padStart(3)}%] ${m}\n`),
    });
    const { v0, v1 } = outcome.metrics;
    process.stdout.write(
      `version ${outcome.version}: v1 AUC ${v1.auc.toFixed(4)} log-loss ${v1.logLoss.toFixed(4)}; ` +
        `v0 AUC ${v0.auc.toFixed(4)} log-loss ${v0.logLoss.toFixed(4)}; ${outcome.promoted ? "promoted" : "not promoted"} (${outcome.reason})\n`,
    );
    if (outcome.promoted) {
      const redis = connectRedis(config.redisUrl, "train");
      await redis.publish(MODELS_CHANNEL, `match:${outcome.version}`).catch(() => undefined);
      redis.disconnect();
    }
    return ExitCode.OK;
  } finally {
    await db.close();
  }
}
