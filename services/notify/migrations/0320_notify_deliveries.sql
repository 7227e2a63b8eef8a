-- Notifications the mesh delivers (NotificationDeliveryService). BullMQ holds the delayed queue
-- entry; this table holds what was asked and what became of it.
create table if not exists notifications (
  notification_id uuid primary key,
  user_id uuid not null,
  notification_type text not null check (notification_type in ('match_found', 'message', 'reminder')),
  urgency text not null check (urgency in ('low', 'medium', 'high')),
  channel text not null check (channel in ('push', 'email', 'sms')),
  status text not null default 'scheduled'
    check (status in ('scheduled', 'sent', 'failed', 'cancelled', 'dead_lettered')),
  title text not null,
  body text not null default '',
  data jsonb not null default '{}',
  email_address text not null default '',
  reason text not null default '',
  idempotency_key text,
  attempts integer not null default 0,
  -- An attempt is under way: it may reach the traveller, so it can no longer be cancelled.
  delivering boolean not null default false,
  error text not null default '',
  send_at timestamptz not null,
  sent_at timestamptz,
  opened_at timestamptz,
  clicked_at timestamptz,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp()
);
create unique index if not exists notifications_idempotency_key on notifications (idempotency_key) where idempotency_key is not null;
create index if not exists notifications_user_newest on notifications (user_id, created_at desc);

-- A click on a delivered notification is activity too (RecordNotificationEngagement).
alter table activity_events drop constraint if exists activity_events_kind_check;
alter table activity_events add constraint activity_events_kind_check
  check (kind in ('app_open', 'notification_open', 'notification_click'));
