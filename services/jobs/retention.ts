import { Counter, type Registry } from "prom-client";
import { ConfigError, readInt, type IntSetting } from "../runtime/config.js";
import { log } from "../runtime/log.js";
import type { Sql } from "../runtime/storage/database.js";
import type { JobQueues } from "./queues.js";

/**
 * One kind of row the retention clean-up removes: `remove` deletes the rows
 * older than `days` and answers how many went. The jobs engine has its own
 * two (dead-lettered jobs, finished job history); areas hand theirs in
 * (services/job-handlers.ts gathers them), so the engine knows no area's tables.
 */
export interface RetentionTarget {
  /** The metric's `what` label and the log's name: dead_letter, job_history, predictions. */
  readonly what: string;
  /** Days to keep; 0 keeps the rows for good. */
  readonly setting: IntSetting;
  remove(sql: Sql, days: number): Promise<number>;
}

/** How often at most the clean-up runs, across all workers (one claims each hour, see claim()). */
const EVERY_MS = 3_600_000;

const DEAD_LETTER_DAYS: IntSetting = { name: "MLMESH_RETENTION_DEAD_LETTER_DAYS", fallback: 30, min: 0, max: 36_500 };

/** Dead-lettered jobs, kept 30 days after they failed by default; their dead-letter queue entries go with them. */
function deadLetterTarget(queues: JobQueues): RetentionTarget {
  return {
    what: "dead_letter",
    setting: DEAD_LETTER_DAYS,
    remove: async (sql, days) => {
      const gone = await sql<{ job_id: string; run: number; queue_entry: string | null }[]>`
        delete from jobs where status = 'failed' and dead_lettered
          and finished_at < clock_timestamp() - ${days} * interval '1 day'
        returning job_id, run, queue_entry`;
      await queues
        .forgetDeadLetters(gone.map((g) => ({ jobId: g.job_id, run: g.run, queueEntry: g.queue_entry })))
        .catch((err) => log.warn("retention: dead-letter queue entries not removed", { error: String(err) }));
      return gone.length;
    },
  };
}

/** Finished jobs that are not dead-lettered (completed, cancelled, failed and since retried away), 90 days by default. */
const jobHistoryTarget: RetentionTarget = {
  what: "job_history",
  setting: { name: "MLMESH_RETENTION_JOB_HISTORY_DAYS", fallback: 90, min: 0, max: 36_500 },
  remove: async (sql, days) => {
    const gone = await sql`
      delete from jobs where status in ('completed', 'cancelled', 'failed') and not dead_lettered
        and finished_at < clock_timestamp() - ${days} * interval '1 day'`;
    return gone.count;
  },
};

/**
 * Checks the retention settings (the engine's and the areas'), every bad one
 * named at once: a worker calls it before it opens a connection, so a bad
 * value refuses to start instead of leaving a half-started process.
 */
export function checkRetentionSettings(areaTargets: readonly RetentionTarget[] = [], env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  for (const setting of [DEAD_LETTER_DAYS, jobHistoryTarget.setting, ...areaTargets.map((t) => t.setting)]) readInt(env, setting, problems);
  if (problems.length) throw new ConfigError(problems);
}

/**
 * The scheduled clean-up. Every worker runs the loop; a row in
 * job_maintenance, claimed with a guarded update, lets one worker run it per
 * hour, so several workers do not delete the same rows at once.
 */
export class Retention {
  private readonly removed: Counter<"what">;
  private readonly plan: { target: RetentionTarget; days: number }[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sql: Sql,
    queues: JobQueues,
    registry: Registry,
    areaTargets: readonly RetentionTarget[] = [],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const problems: string[] = [];
    this.plan = [deadLetterTarget(queues), jobHistoryTarget, ...areaTargets].map((target) => ({
      target,
      days: readInt(env, target.setting, problems),
    }));
    if (problems.length) throw new ConfigError(problems);
    this.removed =
      (registry.getSingleMetric("mlmesh_retention_removed_total") as Counter<"what"> | undefined) ??
      new Counter({
        name: "mlmesh_retention_removed_total",
        help: "Rows the retention clean-up removed, by what (dead_letter, job_history, predictions).",
        labelNames: ["what"] as const,
        registers: [registry],
      });
    for (const { target } of this.plan) this.removed.inc({ what: target.what }, 0);
  }

  /** Tries every `checkMs`; runs when this worker claims the hour. */
  start(checkMs: number): void {
    const tick = () => void this.runIfDue().catch((err) => log.warn("retention: pass failed", { error: String(err) }));
    tick();
    this.timer = setInterval(tick, checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs the clean-up if no worker has this hour; answers what was removed, or undefined when another had it. */
  async runIfDue(): Promise<Record<string, number> | undefined> {
    const claimed = await this.sql`
      insert into job_maintenance (task, last_run_at) values ('retention', clock_timestamp())
      on conflict (task) do update set last_run_at = excluded.last_run_at
        where job_maintenance.last_run_at < clock_timestamp() - ${EVERY_MS} * interval '1 millisecond'
      returning task`;
    return claimed.length ? this.runOnce() : undefined;
  }

  /** One clean-up now, whatever the hour: each target whose setting is not 0. */
  async runOnce(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const { target, days } of this.plan) {
      if (days === 0) continue;
      const n = await target.remove(this.sql, days);
      removed[target.what] = n;
      this.removed.inc({ what: target.what }, n);
    }
    if (Object.values(removed).some((n) => n > 0)) log.info("retention: old rows removed", removed);
    return removed;
  }
}
