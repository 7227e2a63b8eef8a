import type { Sql } from "../runtime/storage/database.js";
import type { JobType } from "./job-store.js";

/** When a schedule's ticks fall: a cron expression in a time zone, or an interval. */
export type Timing = { cron: string; timeZone: string } | { intervalSeconds: number };

/** A schedule as PostgreSQL holds it (job_schedules): the truth the queue's schedulers are made from. */
export interface ScheduleRecord {
  name: string;
  jobType: JobType;
  kind: string;
  parameters: Record<string, unknown>;
  forcePromote: boolean;
  priority: number;
  timing: Timing;
  createdAt: Date;
}

export type NewSchedule = Omit<ScheduleRecord, "createdAt">;

/** The schedules in PostgreSQL, so ListSchedules works without Redis and a Redis that lost them can be re-seeded. */
export class ScheduleStore {
  constructor(private readonly sql: Sql) {}

  /** Inserts the schedule; undefined when the name is taken. */
  async create(s: NewSchedule): Promise<ScheduleRecord | undefined> {
    const sql = this.sql;
    const rows = await sql<Row[]>`
      insert into job_schedules (name, job_type, kind, parameters, force_promote, priority, cron, time_zone, interval_seconds)
      values (${s.name}, ${s.jobType}, ${s.kind}, ${sql.json(s.parameters as never)}, ${s.forcePromote}, ${s.priority},
              ${"cron" in s.timing ? s.timing.cron : null}, ${"cron" in s.timing ? s.timing.timeZone : null},
              ${"intervalSeconds" in s.timing ? s.timing.intervalSeconds : null})
      on conflict (name) do nothing
      returning *`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async get(name: string): Promise<ScheduleRecord | undefined> {
    const rows = await this.sql<Row[]>`select * from job_schedules where name = ${name}`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** By name, after `after` (keyset paging). */
  async list(limit: number, after = ""): Promise<ScheduleRecord[]> {
    const rows = await this.sql<Row[]>`select * from job_schedules where name > ${after} order by name limit ${limit}`;
    return rows.map(fromRow);
  }

  /** Every schedule, for the reconciler (schedules are few: operators create them by hand). */
  async all(): Promise<ScheduleRecord[]> {
    return (await this.sql<Row[]>`select * from job_schedules order by name`).map(fromRow);
  }

  /** True when it existed. */
  async delete(name: string): Promise<boolean> {
    const rows = await this.sql`delete from job_schedules where name = ${name} returning name`;
    return rows.length > 0;
  }
}

interface Row {
  name: string;
  job_type: JobType;
  kind: string;
  parameters: Record<string, unknown>;
  force_promote: boolean;
  priority: number;
  cron: string | null;
  time_zone: string | null;
  interval_seconds: number | null;
  created_at: Date;
}

function fromRow(r: Row): ScheduleRecord {
  return {
    name: r.name,
    jobType: r.job_type,
    kind: r.kind,
    parameters: r.parameters,
    forcePromote: r.force_promote,
    priority: r.priority,
    timing: r.cron !== null ? { cron: r.cron, timeZone: r.time_zone ?? "" } : { intervalSeconds: r.interval_seconds ?? 0 },
    createdAt: r.created_at,
  };
}
