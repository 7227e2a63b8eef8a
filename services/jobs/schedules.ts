import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  InferenceTask,
  ModelKind,
  type CreateScheduleRequest,
  type DeleteScheduleRequest,
  type ListSchedulesRequest,
  type ScheduleSchema,
} from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { CallContext } from "../runtime/context.js";
import { MeshError } from "../runtime/errors.js";
import { requireScope } from "../runtime/keys/scopes.js";
import { log } from "../runtime/log.js";
import { Status } from "../runtime/status.js";
import { handlerKey, type JobHandlers } from "./handler.js";
import { inferenceTaskName, modelKindName } from "./job-message.js";
import { checkNoNul } from "./parameters.js";
import type { JobQueues } from "./queues.js";
import type { ScheduleRecord, ScheduleStore, Timing } from "./schedule-store.js";
import { checkTiming } from "./schedule-timing.js";

const DEFAULT_PAGE_SIZE = 50;

/** What the schedule RPCs work with. */
export interface ScheduleParts {
  schedules: ScheduleStore;
  queues: JobQueues;
  handlers: JobHandlers;
  /** Attempts each tick's job gets (MLMESH_JOB_ATTEMPTS). */
  attempts: number;
  /** PostgreSQL errors become UNAVAILABLE. */
  storage<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Records the schedule in PostgreSQL, then creates its BullMQ job scheduler.
 * If Redis refuses, the record is removed again and the call answers
 * UNAVAILABLE: nothing may look scheduled that is not.
 */
export async function createSchedule(p: ScheduleParts, req: CreateScheduleRequest, ctx: CallContext) {
  const s = req.schedule;
  if (!s) throw invalid("schedule", "required", "value is required");
  const job =
    s.job.case === "trainingModel"
      ? { jobType: "training" as const, kind: modelKindName(s.job.value) }
      : s.job.case === "inferenceTask"
        ? { jobType: "inference" as const, kind: inferenceTaskName(s.job.value) }
        : undefined;
  if (!job) throw invalid("schedule.job", "required", "exactly one of training_model, inference_task is required");
  if (s.forcePromote && job.jobType !== "training") {
    throw invalid("schedule.force_promote", "training_only", "only a training schedule can force promotion");
  }
  // Each tick would promote whatever it trains: the same operator's decision SubmitTrainingJob asks it for.
  if (s.forcePromote) requireScope(ctx, "admin", "mlmesh.jobs.v1.JobQueueService/CreateSchedule with force_promote=true");
  const handler = p.handlers.get(handlerKey(job.jobType, job.kind));
  if (!handler) throw MeshError.unimplemented(`${job.jobType} for '${job.kind}'`);
  const parameters = s.parameters ?? {};
  const violation = checkNoNul("", parameters) ?? handler.checkParameters(parameters);
  if (violation)
    throw new MeshError(Status.INVALID_ARGUMENT, `schedule.${violation.field}: ${violation.message}`, [
      { ...violation, field: `schedule.${violation.field}` },
    ]);
  const timing: Timing | undefined =
    s.timing.case === "cron"
      ? { cron: s.timing.value.expression, timeZone: s.timing.value.timeZone }
      : s.timing.case === "intervalSeconds"
        ? { intervalSeconds: s.timing.value }
        : undefined;
  if (!timing) throw invalid("schedule.timing", "required", "exactly one of cron, interval_seconds is required");
  const bad = checkTiming(timing);
  if (bad) throw new MeshError(Status.INVALID_ARGUMENT, `${bad.field}: ${bad.message}`, [bad]);

  const created = await p.storage(() =>
    p.schedules.create({ name: s.name, ...job, parameters, forcePromote: s.forcePromote, priority: s.priority, timing }),
  );
  if (!created) throw new MeshError(Status.ALREADY_EXISTS, `schedule ${s.name} already exists; delete it first to change it`);
  try {
    await p.queues.upsertScheduler(created, p.attempts);
  } catch (err) {
    log.warn("schedule refused: queue unavailable", { schedule: s.name, error: String(err) });
    await p.schedules.delete(s.name).catch(() => undefined);
    throw MeshError.unavailable("the job queue (Redis) is unavailable; the schedule was not created, retry later");
  }
  const next = await nextTicks(p);
  return { schedule: scheduleMessage(created, next.get(created.name)) };
}

/** By name; the next tick from the queue when Redis answers (a schedule without one is still listed). */
export async function listSchedules(p: ScheduleParts, req: ListSchedulesRequest) {
  const size = req.pageSize || DEFAULT_PAGE_SIZE;
  const after = decodeToken(req.pageToken);
  const found = await p.storage(() => p.schedules.list(size + 1, after));
  const page = found.slice(0, size);
  const next = await nextTicks(p);
  const last = page[page.length - 1];
  return {
    schedules: page.map((s) => scheduleMessage(s, next.get(s.name))),
    nextPageToken: found.length > size && last ? Buffer.from(JSON.stringify({ v: 1, after: last.name })).toString("base64url") : "",
  };
}

/**
 * Deletes the record first (PostgreSQL is the truth), then the scheduler. If
 * Redis is away the scheduler stays there a while: a tick it makes finds no
 * schedule and removes it, and so does the workers' reconciler.
 */
export async function deleteSchedule(p: ScheduleParts, req: DeleteScheduleRequest) {
  const deleted = await p.storage(() => p.schedules.delete(req.name));
  if (!deleted) throw MeshError.notFound(`schedule ${req.name} not found`);
  await p.queues
    .removeScheduler(req.name)
    .catch((err) => log.warn("schedule deleted; its scheduler is left to the reconciler", { schedule: req.name, error: String(err) }));
  return {};
}

async function nextTicks(p: ScheduleParts): Promise<Map<string, number>> {
  try {
    const found = await p.queues.schedulers();
    return new Map(found.flatMap((s) => (s.next === undefined ? [] : [[s.name, s.next] as const])));
  } catch {
    return new Map();
  }
}

function scheduleMessage(s: ScheduleRecord, next: number | undefined): MessageInitShape<typeof ScheduleSchema> {
  const upper = s.kind.toUpperCase();
  return {
    name: s.name,
    job:
      s.jobType === "training"
        ? { case: "trainingModel", value: ModelKind[upper as keyof typeof ModelKind] ?? ModelKind.UNSPECIFIED }
        : { case: "inferenceTask", value: InferenceTask[upper as keyof typeof InferenceTask] ?? InferenceTask.UNSPECIFIED },
    parameters: s.parameters as JsonObject,
    priority: s.priority,
    forcePromote: s.forcePromote,
    timing:
      "cron" in s.timing
        ? { case: "cron", value: { expression: s.timing.cron, timeZone: s.timing.timeZone } }
        : { case: "intervalSeconds", value: s.timing.intervalSeconds },
    createTime: timestampFromDate(s.createdAt),
    nextRunTime: next === undefined ? undefined : timestampFromDate(new Date(next)),
  };
}

function invalid(field: string, rule: string, message: string): MeshError {
  return new MeshError(Status.INVALID_ARGUMENT, `${field}: ${message}`, [{ field, rule: `${field}.${rule}`, message }]);
}

/** Page tokens carry the last name listed; opaque to clients, only their shape is checked. */
function decodeToken(token: string): string {
  if (!token) return "";
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { v?: number; after?: unknown };
    if (parsed.v === 1 && typeof parsed.after === "string") return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw invalid("page_token", "valid", "not a token this server issued");
}
