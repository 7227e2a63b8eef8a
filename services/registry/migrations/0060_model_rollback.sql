-- A rolled-back version stays in the registry (its artefact and metrics are history) but never serves again unless promoted anew.
alter table model_versions add column if not exists rolled_back_at timestamptz;
