-- Model registry: every trained version with its artefact, evaluation and the data it saw.
create table if not exists model_versions (
  model text not null,
  version integer not null,
  artefact bytea not null,
  metadata jsonb not null default '{}',
  metrics jsonb not null default '{}',
  data_summary jsonb not null default '{}',
  created_at timestamptz not null default now(),
  promoted_at timestamptz,
  primary key (model, version)
);
create index if not exists model_versions_promoted on model_versions (model, promoted_at desc);
