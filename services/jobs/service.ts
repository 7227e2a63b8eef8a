import { context, propagation, trace } from "@opentelemetry/api";
import type { JsonObject } from "@bufbuild/protobuf";
import { JobQueueService } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import type { CallContext } from "../runtime/context.js";
import { MeshError } from "../runtime/errors.js";
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
import { JobQueues } from "./queues.js";
import { JobSubmitter } from "./submitter.js";
import { checkRedisForQueues } from "./redis-policy.js";

const DEFAULT_PAGE_SIZE = 50;
// A watcher re-reads the job at least this often, so a lost pub/sub message (Redis restarting) only delays it.
const WATCH_POLL_MS = 2000;
// CancelJob waits this long for the worker holding a running job to confirm, so the usual answer is CANCELLED.
const CANCEL_CONFIRM_MS = 3000;

/**
 * The JobQueue API over the given jobs: services/job-handlers.ts gathers the
 * ones the areas build; tests and benchmarks give their own.
 */
export function jobsAreaWith(handlers: JobHandlers): AreaFactory {
  return async (deps) => {
    const config = loadJobsConfig();
    const queues = new JobQueues(deps.config.redisUrl, config);
    const events = new JobEvents(deps.config.redisUrl, config.prefix, queues.connection);
    registerQueueDepth(deps.metrics.registry, queues);
    void checkRedisForQueues(queues.connection, () => queues.ready(5000));
    return {
      service: JobQueueService,
      impl: jobService({ config, store: new JobStore(deps.db.sql), queues, events, handlers }),
      admin: [{ prefix: "/queues", handler: queueDashboard("/queues", queues) }],
      close: async () => {
        events.close();
        await queues.close();
      },
    };
  };
}

interface Parts {
  config: JobsConfig;
  store: JobStore;
  queues: JobQueues;
  events: JobEvents;
  handlers: JobHandlers;
}

function jobService({ config, store, queues, events, handlers }: Parts): ServiceImpl<typeof JobQueueService> {
  const submitter = new JobSubmitter(store, queues);
  const built = (type: JobType) =>
    [...handlers.values()]
      .filter((h) => h.jobType === type)
      .map((h) => h.kind)
      .join(", ");

  async function submit(
    jobType: JobType,
    kind: string,
    req: { parameters?: JsonObject; priority: number; idempotencyKey: string; forcePromote?: boolean },
    ctx: CallContext,
  ) {
    const handler = handlers.get(handlerKey(jobType, kind));
    if (!handler) throw MeshError.unimplemented(`${jobType} for '${kind}' (built: ${built(jobType) || "none"})`);
    const parameters = req.parameters ?? {};
    const violation = handler.checkParameters(parameters);
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

  async function existing(jobId: string): Promise<JobRecord> {
    const job = await storage(() => store.get(jobId));
    if (!job) throw MeshError.notFound(`job ${jobId} not found`);
    return job;
  }

  return {
    submitTrainingJob: (req, ctx) => submit("training", modelKindName(req.model), req, ctx),

    submitInferenceJob: (req, ctx) => submit("inference", inferenceTaskName(req.task), req, ctx),

    async getJob(req) {
      return { job: jobMessage(await existing(req.jobId)) };
    },

    async listJobs(req) {
      const page = await storage(() =>
        store.list({ status: storedStatus(req.status), jobType: storedJobType(req.jobType) }, req.pageSize || DEFAULT_PAGE_SIZE, req.pageToken),
      );
      return { jobs: page.jobs.map(jobMessage), nextPageToken: page.nextPageToken };
    },

    async listDeadLetterJobs(req) {
      const page = await storage(() => store.list({ deadLettered: true }, req.pageSize || DEFAULT_PAGE_SIZE, req.pageToken));
      return { jobs: page.jobs.map(jobMessage), nextPageToken: page.nextPageToken };
    },

    async cancelJob(req, ctx) {
      const job = await existing(req.jobId);
      if (job.status === "cancelled") return { job: jobMessage(job) };
      if (TERMINAL.has(job.status)) {
        throw new MeshError(Status.FAILED_PRECONDITION, `job ${job.jobId} has already ${job.status === "completed" ? "completed" : "failed"}; only pending or running jobs can be cancelled`);
      }
      const marked = await storage(() => store.requestCancel(job.jobId));
      if (!marked) return { job: jobMessage(await existing(job.jobId)) };
      events.updated(job.jobId);
      // A queued job nobody holds is removed here; a held one is stopped by its worker.
      const removed = marked.status === "pending" && (await queues.removeIfWaiting(marked).catch(() => false));
      if (removed) {
        const cancelled = await storage(() => store.cancelled(job.jobId, "cancelled before it started"));
        events.updated(job.jobId);
        return { job: jobMessage(cancelled ?? (await existing(job.jobId))) };
      }
      // If Redis is down the flag in PostgreSQL still stops the job: at its next progress report, or when a worker takes it.
      await events.requestCancel(job.jobId).catch((err) => log.warn("cancel not broadcast; the worker will see the flag", { error: String(err) }));
      const until = Date.now() + CANCEL_CONFIRM_MS;
      let current = await existing(job.jobId);
      while (!TERMINAL.has(current.status) && Date.now() < until) {
        await events.nextUpdate(job.jobId, 250, ctx.signal);
        current = await existing(job.jobId);
      }
      return { job: jobMessage(current) };
    },

    async *watchJob(req, ctx) {
      let job = await existing(req.jobId);
      yield { job: jobMessage(job) };
      while (!TERMINAL.has(job.status)) {
        await events.nextUpdate(job.jobId, WATCH_POLL_MS, ctx.signal);
        const next = await existing(job.jobId);
        if (next.updatedAt.getTime() !== job.updatedAt.getTime() || next.status !== job.status) yield { job: jobMessage(next) };
        job = next;
      }
    },

    async retryJob(req) {
      const job = await existing(req.jobId);
      if (job.status !== "failed") {
        throw new MeshError(Status.FAILED_PRECONDITION, `job ${job.jobId} is ${job.status}; only failed jobs can be retried`);
      }
      // Recorded first, so a worker that takes the new entry at once finds it pending; undone if Redis refuses.
      const requeued = await storage(() => store.requeue(job.jobId));
      if (!requeued) return { job: jobMessage(await existing(job.jobId)) };
      try {
        await queues.add(requeued);
      } catch {
        await store.restore(job).catch((err) => log.error("retry: could not restore the failed job", { jobId: job.jobId, error: String(err) }));
        throw MeshError.unavailable("the job queue (Redis) is unavailable; the job was not queued again, retry later");
      }
      await queues.leaveDeadLetter(job).catch(() => undefined);
      events.updated(job.jobId);
      return { job: jobMessage(requeued) };
    },
  };
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
