import { context, propagation, trace } from "@opentelemetry/api";
import type { JsonObject } from "@bufbuild/protobuf";
import { JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import type { CallContext } from "../runtime/context.js";
import { MeshError } from "../runtime/errors.js";
import { requireScope, type MethodScopes } from "../runtime/keys/scopes.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import { Status } from "../runtime/status.js";
import { queueDashboard } from "./dashboard.js";
import { loadJobsConfig, type JobsConfig } from "./config.js";
import { JobEvents } from "./events.js";
import { handlerKey, type JobHandlers } from "./handler.js";
import { inferenceTaskName, jobMessage, modelKindName, storedJobType, storedStatus } from "./job-message.js";
import { registerQueueDepth } from "./job-metrics.js";
import { JobStore, TERMINAL, type JobRecord, type JobType } from "./job-store.js";
import { trainingParameters } from "./hyperparameters.js";
import { checkNoNul } from "./parameters.js";
import { JobQueues } from "./queues.js";
import { createSchedule, deleteSchedule, listSchedules, type ScheduleParts } from "./schedules.js";
import { ScheduleStore } from "./schedule-store.js";
import { JobSubmitter } from "./submitter.js";
import { checkRedisForQueues } from "./redis-policy.js";

const DEFAULT_PAGE_SIZE = 50;
// A watcher re-reads the job at least this often, so a lost pub/sub message (Redis restarting) only delays it.
const WATCH_POLL_MS = 2000;
// CancelJob waits this long for the worker holding a running job to confirm, so the usual answer is CANCELLED.
const CANCEL_CONFIRM_MS = 3000;

/**
 * Submitting, reading, watching and cancelling jobs, and listing schedules, needs `jobs`; queueing a
 * dead-lettered job again, and creating or deleting schedules (jobs that run on their own for good), `admin`.
 */
const JOB_SCOPES: MethodScopes = {
  default: "jobs",
  methods: { RetryJob: "admin", CreateSchedule: "admin", DeleteSchedule: "admin" },
};

/**
 * The JobQueue API over the given jobs: services/job-handlers.ts gathers the
 * ones the areas build; tests and benchmarks give their own.
 */
export function jobsAreaWith(handlers: JobHandlers): AreaFactory {
  return async (deps) => {
    const config = loadJobsConfig(process.env, deps.config.redisPrefix);
    const queues = new JobQueues(deps.config.redisUrl, config);
    const events = new JobEvents(deps.config.redisUrl, config.prefix, queues.connection);
    registerQueueDepth(deps.metrics.registry, queues);
    void checkRedisForQueues(queues.connection, () => queues.ready(5000));
    const store = new JobStore(deps.db.sql);
    const schedules: ScheduleParts = { schedules: new ScheduleStore(deps.db.sql), queues, handlers, attempts: config.attempts, storage };
    return {
      service: JobQueueService,
      impl: jobService({ config, store, queues, events, handlers, submitter: new JobSubmitter(store, queues), schedules }),
      scopes: JOB_SCOPES,
      // Anyone with `jobs` may look at the dashboard; retrying, removing or promoting entries through it needs `admin`.
      admin: [{ prefix: "/queues", handler: queueDashboard("/queues", queues), scopes: { read: "jobs", write: "admin" } }],
      close: async () => {
        events.close();
        await queues.close();
      },
    };
  };
}

/** What the JobQueue RPCs work with, built once by the area. */
interface Parts {
  config: JobsConfig;
  store: JobStore;
  queues: JobQueues;
  events: JobEvents;
  handlers: JobHandlers;
  submitter: JobSubmitter;
  schedules: ScheduleParts;
}

/** The JobQueue RPCs, each a named step below. */
function jobService(p: Parts): ServiceImpl<typeof JobQueueService> {
  return {
    submitTrainingJob: (req, ctx) => {
      // Promoting whatever the job trains, beaten or not, is an operator's decision.
      if (req.forcePromote) requireScope(ctx, "admin", `${JobQueueService.typeName}/SubmitTrainingJob with force_promote=true`);
      const kind = modelKindName(req.model);
      const typed = trainingParameters(kind, req);
      if ("violation" in typed) {
        const { violation } = typed;
        throw new MeshError(Status.INVALID_ARGUMENT, `${violation.field}: ${violation.message}`, [violation]);
      }
      return submit(p, "training", kind, { ...req, parameters: typed.parameters }, ctx);
    },
    submitInferenceJob: (req, ctx) => submit(p, "inference", inferenceTaskName(req.task), req, ctx),
    getJob: async (req) => ({ job: jobMessage(await existing(p, req.jobId)) }),
    listJobs: (req) => page(p, { status: storedStatus(req.status), jobType: storedJobType(req.jobType) }, req),
    listDeadLetterJobs: (req) => page(p, { deadLettered: true }, req),
    cancelJob: (req, ctx) => cancel(p, req.jobId, ctx),
    watchJob: (req, ctx) => watch(p, req.jobId, ctx),
    retryJob: (req) => retry(p, req.jobId),
    createSchedule: (req, ctx) => createSchedule(p.schedules, req, ctx),
    listSchedules: (req) => listSchedules(p.schedules, req),
    deleteSchedule: (req) => deleteSchedule(p.schedules, req),
  };
}

/** Checks the job is built and its parameters, then records and queues it (or finds the one its idempotency key made). */
async function submit(
  { config, handlers, submitter }: Parts,
  jobType: JobType,
  kind: string,
  req: { parameters?: JsonObject; priority: number; idempotencyKey: string; forcePromote?: boolean },
  ctx: CallContext,
) {
  const handler = handlers.get(handlerKey(jobType, kind));
  if (!handler) throw MeshError.unimplemented(`${jobType} for '${kind}' (built: ${built(handlers, jobType) || "none"})`);
  const parameters = req.parameters ?? {};
  const violation = checkNoNul(req.idempotencyKey, parameters) ?? handler.checkParameters(parameters);
  if (violation) throw new MeshError(Status.INVALID_ARGUMENT, `${violation.field}: ${violation.message}`, [violation]);
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), ctx.span), carrier);
  // No watcher can exist yet (the id is in this response), so a new job needs no notification.
  const { job } = await submitter.submit({
    jobType,
    kind,
    parameters,
    forcePromote: req.forcePromote ?? false,
    priority: req.priority,
    maxAttempts: config.attempts,
    idempotencyKey: req.idempotencyKey || undefined,
    traceParent: carrier.traceparent ?? "",
  });
  return { job: jobMessage(job) };
}

/** The kinds of a job type that are built, for the message that refuses one that is not. */
function built(handlers: JobHandlers, type: JobType): string {
  return [...handlers.values()]
    .filter((h) => h.jobType === type)
    .map((h) => h.kind)
    .join(", ");
}

async function existing({ store }: Parts, jobId: string): Promise<JobRecord> {
  const job = await storage(() => store.get(jobId));
  if (!job) throw MeshError.notFound(`job ${jobId} not found`);
  return job;
}

async function page({ store }: Parts, filter: Parameters<JobStore["list"]>[0], req: { pageSize: number; pageToken: string }) {
  const found = await storage(() => store.list(filter, req.pageSize || DEFAULT_PAGE_SIZE, req.pageToken));
  return { jobs: found.jobs.map(jobMessage), nextPageToken: found.nextPageToken };
}

/**
 * Cancels a pending or running job: a queued one nobody holds is removed at
 * once; a held one is stopped by its worker, which this waits a moment for.
 */
async function cancel(p: Parts, jobId: string, ctx: CallContext) {
  const { store, queues, events } = p;
  const job = await existing(p, jobId);
  if (job.status === "cancelled") return { job: jobMessage(job) };
  if (TERMINAL.has(job.status)) {
    throw new MeshError(
      Status.FAILED_PRECONDITION,
      `job ${job.jobId} has already ${job.status === "completed" ? "completed" : "failed"}; only pending or running jobs can be cancelled`,
    );
  }
  const marked = await storage(() => store.requestCancel(job.jobId));
  if (!marked) return { job: jobMessage(await existing(p, job.jobId)) };
  events.updated(job.jobId);
  const removed = marked.status === "pending" && (await queues.removeIfWaiting(marked).catch(() => false));
  if (removed) {
    const cancelled = await storage(() => store.cancelled(job.jobId, "cancelled before it started"));
    events.updated(job.jobId);
    return { job: jobMessage(cancelled ?? (await existing(p, job.jobId))) };
  }
  // If Redis is down the flag in PostgreSQL still stops the job: at its next progress report, or when a worker takes it.
  await events
    .requestCancel(job.jobId)
    .catch((err) => log.warn("cancel not broadcast; the worker will see the flag", { error: String(err) }));
  const until = Date.now() + CANCEL_CONFIRM_MS;
  let current = await existing(p, job.jobId);
  while (!TERMINAL.has(current.status) && Date.now() < until) {
    await events.nextUpdate(job.jobId, 250, ctx.signal);
    current = await existing(p, job.jobId);
  }
  return { job: jobMessage(current) };
}

/** The job now, then every change until it ends. */
async function* watch(p: Parts, jobId: string, ctx: CallContext) {
  let job = await existing(p, jobId);
  yield { job: jobMessage(job) };
  while (!TERMINAL.has(job.status)) {
    await p.events.nextUpdate(job.jobId, WATCH_POLL_MS, ctx.signal);
    const next = await existing(p, job.jobId);
    if (next.updatedAt.getTime() !== job.updatedAt.getTime() || next.status !== job.status) yield { job: jobMessage(next) };
    job = next;
  }
}

/** Queues a failed job again, as a new run; it leaves the dead-letter queue. */
async function retry(p: Parts, jobId: string) {
  const { store, queues, events } = p;
  const job = await existing(p, jobId);
  if (job.status !== "failed") {
    throw new MeshError(Status.FAILED_PRECONDITION, `job ${job.jobId} is ${job.status}; only failed jobs can be retried`);
  }
  // Recorded first, so a worker that takes the new entry at once finds it pending; undone if Redis refuses.
  const requeued = await storage(() => store.requeue(job.jobId));
  if (!requeued) return { job: jobMessage(await existing(p, job.jobId)) };
  try {
    await queues.add(requeued);
  } catch {
    await store.restore(job).catch((err) => log.error("retry: could not restore the failed job", { jobId: job.jobId, error: String(err) }));
    throw MeshError.unavailable("the job queue (Redis) is unavailable; the job was not queued again, retry later");
  }
  await queues.leaveDeadLetter(job).catch(() => undefined);
  events.updated(job.jobId);
  return { job: jobMessage(requeued) };
}

/** PostgreSQL errors become UNAVAILABLE; the mesh's own errors pass through. */
async function storage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MeshError) throw err;
    log.warn("job history unavailable", { error: String(err) });
    throw MeshError.unavailable("the job history (PostgreSQL) is unavailable, retry later");
  }
}
