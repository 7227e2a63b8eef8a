-- When and where travellers engage: their time zone and quiet hours, and their activity.
create table if not exists user_notification_prefs (
  user_id uuid primary key,
  timezone text not null,
  -- Local hours [quiet_start_hour, quiet_end_hour) when nothing may be sent; equal means none.
  quiet_start_hour integer not null check (quiet_start_hour between 0 and 23),
  quiet_end_hour integer not null check (quiet_end_hour between 0 and 23),
  updated_at timestamptz not null default now()
);

create table if not exists activity_events (
  user_id uuid not null,
  kind text not null check (kind in ('app_open', 'notification_open')),
  channel text check (channel in ('push', 'email', 'sms')),
  notification_type text check (notification_type in ('match_found', 'message', 'reminder')),
  occurred_at timestamptz not null
);
create index if not exists activity_events_user_time on activity_events (user_id, occurred_at);
