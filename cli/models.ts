import { ModelRegistry, rollbackModel } from "../services/registry/index.js";
import { loadConfig } from "../services/runtime/config.js";
import { openDatabase } from "../services/runtime/storage/database.js";
import { migrate } from "../services/runtime/storage/migrations.js";
import { connectRedis } from "../services/runtime/storage/redis.js";
import { parseArgs } from "./args.js";
import { CliUsageError, ExitCode } from "./exit.js";

export const modelsUsage = `mlmesh models list MODEL
mlmesh models rollback MODEL

list      the registry's kept versions of MODEL (match, recommend, notify), newest first: metrics, the hyperparameters it was trained with, when
          promoted or rolled back; the one serving is marked *
rollback  withdraws the serving version: the version promoted before it serves again
          (servers hear it on Redis and swap without failing a request; with none
          left they fall back to their baseline). Exit 1 if nothing is serving.

The registry keeps the newest MLMESH_MODEL_KEEP_VERSIONS (5) versions of each model,
and always the serving one and the one a rollback would return to.`;

export async function models(args: string[]): Promise<number> {
  const { positional } = parseArgs(args, {});
  const [sub, model] = positional;
  if (sub !== "list" && sub !== "rollback") throw new CliUsageError(`models: unknown subcommand '${sub ?? ""}' (known: list, rollback)`);
  if (!model) throw new CliUsageError(`models ${sub} needs a MODEL (match)`);
  const config = loadConfig({ ...process.env, MLMESH_AUTH_DISABLED: "true" });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  try {
    await migrate(db.sql);
    if (sub === "list") {
      const registry = new ModelRegistry(db.sql);
      const serving = await registry.serving(model);
      for (const v of await registry.versions(model)) {
        const mark = v.version === serving?.version ? "*" : " ";
        const state = v.rolledBackAt
          ? `rolled back ${v.rolledBackAt.toISOString()}`
          : v.promotedAt
            ? `promoted ${v.promotedAt.toISOString()}`
            : "not promoted";
        process.stdout.write(
          `${mark} ${model} v${v.version}  created ${v.createdAt.toISOString()}  ${state}  ${JSON.stringify(v.metrics)}` +
            (v.metadata.parameters ? `  parameters ${JSON.stringify(v.metadata.parameters)}` : "") +
            "\n",
        );
      }
      return ExitCode.OK;
    }
    const redis = connectRedis(config.redisUrl, "models");
    try {
      const { from, to } = await rollbackModel(db.sql, redis, model, config.redisPrefix);
      process.stdout.write(
        `${model}: rolled back v${from}; ${to ? `v${to} serves again` : "no promoted version left: servers use their baseline"}\n`,
      );
      return ExitCode.OK;
    } catch (err) {
      process.stderr.write(`mlmesh: ${(err as Error).message}\n`);
      return ExitCode.FAILURE;
    } finally {
      redis.disconnect();
    }
  } finally {
    await db.close();
  }
}
