-- Schedules (CreateSchedule): the truth about which schedules exist. BullMQ's job schedulers in Redis
-- make the ticks; a worker's reconciler re-seeds them from here when Redis lost them, and removes
-- the ones this table no longer has.
create table if not exists job_schedules (
  name text primary key,
  job_type text not null check (job_type in ('training', 'inference')),
  kind text not null,
  parameters jsonb not null default '{}',
  force_promote boolean not null default false,
  priority integer not null default 0,
  cron text,
  time_zone text,
  interval_seconds integer,
  created_at timestamptz not null default clock_timestamp(),
  check ((cron is null) <> (interval_seconds is null))
);

-- A scheduled tick's queue entry (BullMQ names it, repeat:<schedule>:<millis>). The worker that takes
-- the tick creates the job's record keyed by it, so a tick taken twice (its worker died) is one job.
alter table jobs add column if not exists queue_entry text;
create unique index if not exists jobs_queue_entry on jobs (queue_entry) where queue_entry is not null;
