-- The reconciler's scan: unfinished jobs by last change (services/jobs/reconciler.ts).
create index if not exists jobs_unfinished_by_update on jobs (updated_at, job_id) where status in ('pending', 'running');
