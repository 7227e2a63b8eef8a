import { DynamicBatcher } from "../runtime/batcher.js";
import { MeshError } from "../runtime/errors.js";
import { log } from "../runtime/log.js";
import type { JobRecord, JobStore, NewJob } from "./job-store.js";
import type { JobQueues } from "./queues.js";

/**
 * Submits jobs in groups: concurrent SubmitTrainingJob/SubmitInferenceJob
 * calls share one PostgreSQL insert and one BullMQ addBulk, so a burst of
 * submits costs a few round trips instead of two per job. A job is recorded
 * before it is queued, and its record is removed again if the queue refuses
 * it: nothing may look queued that is not.
 */
export class JobSubmitter {
  private readonly batcher: DynamicBatcher<NewJob, { job: JobRecord; created: boolean }>;

  constructor(store: JobStore, queues: JobQueues) {
    this.batcher = new DynamicBatcher({
      maxBatch: 256,
      maxWaitMs: 1,
      run: async (jobs) => {
        let results: Awaited<ReturnType<typeof store.createMany>>;
        try {
          results = await store.createMany(jobs);
        } catch (err) {
          log.warn("job submit refused: job history unavailable", { error: String(err) });
          throw MeshError.unavailable("the job history (PostgreSQL) is unavailable; nothing was queued, retry later");
        }
        const fresh = results.filter((r) => r.created).map((r) => r.job);
        try {
          await queues.addMany(fresh);
        } catch (err) {
          await store.discard(fresh.map((j) => j.jobId)).catch(() => undefined);
          log.warn("job submit refused: queue unavailable", { error: String(err) });
          throw MeshError.unavailable("the job queue (Redis) is unavailable; nothing was queued, retry later");
        }
        return results;
      },
    });
  }

  submit(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    return this.batcher.submit(job);
  }
}
