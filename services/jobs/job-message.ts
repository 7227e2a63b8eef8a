import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InferenceTask, JobStatus, JobType, ModelKind, type JobSchema } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import type { JobRecord, JobState, JobType as StoredJobType } from "./job-store.js";

// The stored kind is the enum value's name in lower case: MODEL_KIND_MATCH is "match".
export const modelKindName = (k: ModelKind): string => ModelKind[k].toLowerCase();
export const inferenceTaskName = (t: InferenceTask): string => InferenceTask[t].toLowerCase();

const STATUS: Record<JobState, JobStatus> = {
  pending: JobStatus.PENDING,
  running: JobStatus.RUNNING,
  completed: JobStatus.COMPLETED,
  failed: JobStatus.FAILED,
  cancelled: JobStatus.CANCELLED,
};

export function storedStatus(status: JobStatus): JobState | undefined {
  return status === JobStatus.UNSPECIFIED ? undefined : (JobStatus[status].toLowerCase() as JobState);
}

export function storedJobType(type: JobType): StoredJobType | undefined {
  return type === JobType.UNSPECIFIED ? undefined : (JobType[type].toLowerCase() as StoredJobType);
}

export function jobMessage(r: JobRecord): MessageInitShape<typeof JobSchema> {
  const upper = r.kind.toUpperCase();
  return {
    jobId: r.jobId,
    jobType: r.jobType === "training" ? JobType.TRAINING : JobType.INFERENCE,
    status: STATUS[r.status],
    model: r.jobType === "training" ? (ModelKind[upper as keyof typeof ModelKind] ?? ModelKind.UNSPECIFIED) : ModelKind.UNSPECIFIED,
    task:
      r.jobType === "inference"
        ? (InferenceTask[upper as keyof typeof InferenceTask] ?? InferenceTask.UNSPECIFIED)
        : InferenceTask.UNSPECIFIED,
    // JSONB in, JSON out: the stored values are JSON by construction.
    parameters: r.parameters as JsonObject,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.maxAttempts,
    progressPercent: r.progressPercent,
    progressMessage: r.progressMessage,
    result: (r.result as JsonObject | null) ?? undefined,
    error: r.error,
    idempotencyKey: r.idempotencyKey ?? "",
    createdAt: timestampFromDate(r.createdAt),
    updatedAt: timestampFromDate(r.updatedAt),
    startedAt: r.startedAt ? timestampFromDate(r.startedAt) : undefined,
    finishedAt: r.finishedAt ? timestampFromDate(r.finishedAt) : undefined,
    deadLettered: r.deadLettered,
  };
}
