import { Gauge, Histogram, type Registry } from "prom-client";
import { DEAD_LETTER_QUEUE, type JobQueues } from "./queues.js";

const STATES = ["waiting", "prioritized", "delayed", "active", "completed", "failed"] as const;

/** What workers measure of the jobs they run. */
export class JobMetrics {
  readonly jobDuration: Histogram<"job_type" | "kind" | "outcome">;

  constructor(registry: Registry) {
    this.jobDuration = new Histogram({
      name: "mlmesh_job_duration_seconds",
      help: "Time a worker spent on one attempt of a job, by type, kind and outcome (completed, retried, dead_lettered, cancelled, handed_back, postponed).",
      labelNames: ["job_type", "kind", "outcome"] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    });
  }
}

/**
 * Queue depths, read from Redis when Prometheus scrapes, so every process
 * that exposes them (the API, a worker) reports the same numbers.
 */
export function registerQueueDepth(registry: Registry, queues: JobQueues): void {
  new Gauge({
    name: "mlmesh_queue_jobs",
    help: "Jobs in each queue by state; the dead-letter queue's waiting count is the number of dead-lettered jobs.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      // A scrape while Redis is down reports no depths rather than hanging.
      if (
        !(await queues.ready(500).then(
          () => true,
          () => false,
        ))
      )
        return;
      for (const [name, queue] of queues.queues) {
        const counts = await queue.getJobCounts(...STATES).catch(() => undefined);
        if (!counts) continue;
        for (const state of STATES)
          this.labels(name, name === DEAD_LETTER_QUEUE && state === "waiting" ? "dead_lettered" : state).set(counts[state] ?? 0);
      }
    },
  });
}
