import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { InferenceTask, JobQueueService, ModelKind, type Schedule } from "../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { parseArgs } from "./args.js";
import { codeName } from "./call.js";
import { CliUsageError, ExitCode } from "./exit.js";

export const schedulesUsage = `mlmesh schedules create --name NAME (--cron "EXPR" [--tz ZONE] | --every SECONDS)
                        (--train MODEL | --infer TASK) [--params JSON] [--priority 0-100] [--force-promote]
mlmesh schedules list
mlmesh schedules delete NAME
  each with [--addr 127.0.0.1:50051] [--key KEY]

Schedules queue a training or inference job on a cron expression read in an
IANA time zone (UTC unless --tz names one), or every SECONDS. Each tick is an
ordinary job (ListJobs, GetJob, WatchJob show it), run once whatever the number
of workers. Creating and deleting need a key with the admin scope, listing jobs.
MODEL is match, recommend, notify or forecast; TASK forecast_all_products,
score_candidates or precompute_recommendations. The key defaults to $MLMESH_API_KEY.

  mlmesh schedules create --name nightly-match --cron "0 3 * * *" --tz Europe/Lisbon --train match

Exit codes: 0 ok, 1 the RPC failed, 2 usage.`;

const OPTIONS = {
  addr: "string",
  key: "string",
  name: "string",
  cron: "string",
  tz: "string",
  every: "string",
  train: "string",
  infer: "string",
  params: "string",
  priority: "string",
  "force-promote": "boolean",
} as const;

export async function schedules(args: string[]): Promise<number> {
  const { options, positional } = parseArgs(args, OPTIONS);
  const [sub, name] = positional;
  const addr = (options.addr as string) ?? `127.0.0.1:${process.env.GRPC_PORT ?? 50051}`;
  const key = (options.key as string) ?? process.env.MLMESH_API_KEY;
  const client = createClient(JobQueueService, createGrpcTransport({ baseUrl: `http://${addr}` }));
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  // Checked before any call, so a usage error is exit 2 whatever the server would say.
  const request = sub === "create" ? { schedule: scheduleFrom(options) } : undefined;
  if (sub !== "create" && sub !== "list" && sub !== "delete") {
    throw new CliUsageError(`schedules: unknown subcommand '${sub ?? ""}' (known: create, list, delete)`);
  }
  if (sub === "delete" && !name) throw new CliUsageError("schedules delete needs a NAME");
  try {
    if (request) {
      const { schedule } = await client.createSchedule(request, { headers });
      if (schedule) process.stdout.write(`${describe(schedule)}\n`);
    } else if (sub === "list") {
      let pageToken = "";
      do {
        const page = await client.listSchedules({ pageToken }, { headers });
        for (const s of page.schedules) process.stdout.write(`${describe(s)}\n`);
        pageToken = page.nextPageToken;
      } while (pageToken);
    } else {
      await client.deleteSchedule({ name }, { headers });
      process.stdout.write(`deleted ${name}\n`);
    }
    return ExitCode.OK;
  } catch (err) {
    const e = ConnectError.from(err);
    process.stderr.write(`ERROR ${codeName(e.code)}: ${e.rawMessage}\n`);
    return ExitCode.FAILURE;
  }
}

/** The schedule the create options describe; what is missing or doubled is a usage error (the server checks the values). */
function scheduleFrom(o: Record<string, string | boolean>) {
  const name = o.name as string | undefined;
  if (!name) throw new CliUsageError("schedules create needs --name");
  if (Boolean(o.cron) === Boolean(o.every)) throw new CliUsageError("schedules create needs one of --cron, --every");
  if (Boolean(o.train) === Boolean(o.infer)) throw new CliUsageError("schedules create needs one of --train, --infer");
  if (o.tz && !o.cron) throw new CliUsageError("--tz goes with --cron");
  const every = o.every === undefined ? undefined : Number(o.every);
  if (every !== undefined && !Number.isInteger(every)) throw new CliUsageError(`--every: '${o.every}' is not a whole number of seconds`);
  const priority = o.priority === undefined ? 0 : Number(o.priority);
  if (!Number.isInteger(priority)) throw new CliUsageError(`--priority: '${o.priority}' is not a whole number`);
  let parameters: JsonObject | undefined;
  if (o.params !== undefined) {
    try {
      parameters = JSON.parse(o.params as string) as JsonObject;
    } catch {
      throw new CliUsageError("--params is not JSON");
    }
    if (parameters === null || typeof parameters !== "object" || Array.isArray(parameters))
      throw new CliUsageError("--params must be a JSON object");
  }
  return {
    name,
    job: o.train
      ? { case: "trainingModel" as const, value: enumValue(ModelKind, "MODEL_KIND_", o.train as string, "--train") }
      : { case: "inferenceTask" as const, value: enumValue(InferenceTask, "INFERENCE_TASK_", o.infer as string, "--infer") },
    timing:
      every !== undefined
        ? { case: "intervalSeconds" as const, value: every }
        : { case: "cron" as const, value: { expression: o.cron as string, timeZone: (o.tz as string) ?? "" } },
    parameters,
    priority,
    forcePromote: o["force-promote"] === true,
  };
}

/** `match` or `MODEL_KIND_MATCH` to the enum's number. */
function enumValue(e: Record<string, string | number>, prefix: string, given: string, option: string): number {
  const full = given.toUpperCase().startsWith(prefix) ? given.toUpperCase() : `${prefix}${given.toUpperCase()}`;
  const value = e[full.slice(prefix.length)];
  if (typeof value !== "number" || value === 0) {
    const known = Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    throw new CliUsageError(`${option}: unknown '${given}' (known: ${known.map((k) => k.toLowerCase()).join(", ")})`);
  }
  return value;
}

/** One line: name, job, timing, next tick. */
function describe(s: Schedule): string {
  const job =
    s.job.case === "trainingModel"
      ? `train ${ModelKind[s.job.value].toLowerCase()}`
      : s.job.case === "inferenceTask"
        ? `infer ${InferenceTask[s.job.value].toLowerCase()}`
        : "?";
  const timing =
    s.timing.case === "cron"
      ? `cron "${s.timing.value.expression}" ${s.timing.value.timeZone || "UTC"}`
      : s.timing.case === "intervalSeconds"
        ? `every ${s.timing.value} s`
        : "?";
  const params = s.parameters && Object.keys(s.parameters).length ? ` ${JSON.stringify(s.parameters)}` : "";
  const next = s.nextRunTime ? ` next ${timestampDate(s.nextRunTime).toISOString()}` : "";
  return `${s.name}\t${job}${params}\t${timing}${next}`;
}
