-- When each periodic task last ran on any worker (services/jobs/retention.ts): a worker claims a run
-- with a guarded update, so several workers run it once per period between them.
create table if not exists job_maintenance (
  task text primary key,
  last_run_at timestamptz not null
);

-- Retention deletes finished jobs by age.
create index if not exists jobs_finished_at on jobs (finished_at) where finished_at is not null;
