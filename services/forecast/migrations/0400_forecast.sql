-- Inventory transactions the forecasts learn from, and the prediction cache.
create table if not exists products (
  product_id text primary key,
  name text not null,
  created_at timestamptz not null default now()
);

create table if not exists transactions (
  id bigserial primary key,
  product_id text not null,
  date date not null,
  quantity double precision not null check (quantity >= 0)
);
create index if not exists transactions_product_date on transactions (product_id, date);

-- Forecasts cached for 24 hours by default, keyed by product, kind, horizon and a hash of the data.
create table if not exists ml_predictions (
  product_id text not null,
  kind text not null check (kind in ('demand', 'stockout')),
  horizon_days integer not null,
  data_hash text not null,
  response bytea not null,
  model text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (product_id, kind, horizon_days, data_hash)
);
create index if not exists ml_predictions_expiry on ml_predictions (expires_at);
