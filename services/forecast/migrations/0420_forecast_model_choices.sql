-- The model `forecast` training chose for each product: the backtest's winner, its parameters and
-- metrics, every candidate's error, and a hash of the history it was chosen on (the key ForecastDemand
-- would compute for the same history), so a reader can tell whether the choice is still current.
create table if not exists forecast_model_choices (
  product_id text primary key,
  model text not null,
  method_version text not null,
  parameters jsonb not null,
  metrics jsonb not null,
  candidates jsonb not null,
  history_hash text not null,
  history_days integer not null,
  job_id uuid,
  trained_at timestamptz not null default now()
);
