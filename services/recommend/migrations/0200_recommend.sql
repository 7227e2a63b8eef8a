-- Destinations travellers can be recommended, and what travellers did with them.
create table if not exists destinations (
  id text primary key,
  name text not null,
  country text not null,
  latitude double precision not null check (latitude between -90 and 90),
  longitude double precision not null check (longitude between -180 and 180),
  population bigint not null default 0,
  -- Words of the shared interest vocabulary (services/match/population/interests.ts).
  tags text[] not null default '{}',
  -- 1 low, 2 medium, 3 high: the Budget enum's order.
  cost_level smallint not null check (cost_level between 1 and 3),
  -- Months (1-12) in season.
  good_months smallint[] not null default '{}'
);

create table if not exists destination_interactions (
  user_id uuid not null,
  destination_id text not null,
  kind text not null check (kind in ('viewed', 'saved', 'booked')),
  occurred_at timestamptz not null
);
create index if not exists destination_interactions_user on destination_interactions (user_id);
