import { call, callUsage } from "./call.js";
import { evaluate, evalUsage } from "./eval.js";
import { health, healthUsage } from "./health.js";
import { migrate, migrateUsage } from "./migrate.js";
import { seed, seedUsage } from "./seed.js";
import { serve, serveUsage } from "./serve.js";
import { train, trainUsage } from "./train.js";
import { worker, workerUsage } from "./worker.js";
import { jobs, jobsUsage } from "./jobs.js";
import { models, modelsUsage } from "./models.js";
import { schedules, schedulesUsage } from "./schedules.js";

export interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  serve: { usage: serveUsage, run: serve },
  worker: { usage: workerUsage, run: worker },
  jobs: { usage: jobsUsage, run: jobs },
  schedules: { usage: schedulesUsage, run: schedules },
  migrate: { usage: migrateUsage, run: () => migrate() },
  health: { usage: healthUsage, run: health },
  call: { usage: callUsage, run: call },
  seed: { usage: seedUsage, run: seed },
  train: { usage: trainUsage, run: train },
  eval: { usage: evalUsage, run: evaluate },
  models: { usage: modelsUsage, run: models },
};

export function usage(): string {
  return `mlmesh: the ml-mesh command line

Usage: mlmesh <command> [options]   (mlmesh <command> --help for details)

Commands:
  serve     start the mesh (gRPC, Connect, REST gateway, admin)
  worker    run training and batch-inference jobs from the queues
  jobs      follow a job: jobs watch ID (live progress until it ends)
  schedules create, list or delete the schedules that queue jobs (cron or interval)
  migrate   apply the database migrations
  health    check a running mesh through grpc.health.v1
  call      call one RPC with a JSON request, print the JSON response
  seed      load deterministic synthetic sample data
  train     train a model, store it in the registry, promote it if better
  eval      evaluate a model offline against its baselines
  models    list a model's versions in the registry, or roll the serving one back

Exit codes: 0 ok, 1 failure, 2 usage error, 3 bad configuration.
`;
}
