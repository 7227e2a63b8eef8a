-- Job history. BullMQ holds the queue; this table holds what a job is and what
-- became of it, so history outlives Redis and its retention settings.
create table if not exists jobs (
  job_id uuid primary key,
  job_type text not null check (job_type in ('training', 'inference')),
  -- The model (training) or the task (inference), lower-case: match, forecast_all_products, ...
  kind text not null,
  status text not null default 'pending'
    check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  parameters jsonb not null default '{}',
  force_promote boolean not null default false,
  priority integer not null default 0,
  attempts integer not null default 0,
  max_attempts integer not null,
  progress_percent double precision not null default 0,
  progress_message text not null default '',
  result jsonb,
  error text not null default '',
  idempotency_key text,
  -- Bumped by RetryJob: the queue's job id is job_id.run, so a retried job is a new queue entry.
  run integer not null default 0,
  cancel_requested boolean not null default false,
  dead_lettered boolean not null default false,
  -- W3C traceparent of the submitting call, so the worker's spans join its trace.
  trace_parent text not null default '',
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp(),
  started_at timestamptz,
  finished_at timestamptz
);

create unique index if not exists jobs_idempotency_key on jobs (job_type, idempotency_key) where idempotency_key is not null;
create index if not exists jobs_newest on jobs (created_at desc, job_id desc);
create index if not exists jobs_status_newest on jobs (status, created_at desc, job_id desc);
create index if not exists jobs_dead_letter_newest on jobs (created_at desc, job_id desc) where dead_lettered;
