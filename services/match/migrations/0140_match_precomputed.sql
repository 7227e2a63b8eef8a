-- A changed profile gets a new updated_at, whoever writes it: what the precomputed matches below
-- compare to know which travellers' rows are stale.
create or replace function mlmesh_travellers_touch() returns trigger language plpgsql as $$
begin
  if new is distinct from old then new.updated_at := clock_timestamp(); end if;
  return new;
end $$;
drop trigger if exists travellers_touch on travellers;
create trigger travellers_touch before update on travellers for each row execute function mlmesh_travellers_touch();

-- Each traveller's top-K nearby matches as the serving match model scored them (the score_candidates
-- job), for a feed to read. `matches` is [{"user_id": ..., "score": ...}], best first. neighbours_hash
-- covers the candidates' ids and updated_at, so a later run recomputes only the travellers whose own
-- profile, candidates or model changed.
create table if not exists match_precomputed (
  user_id uuid primary key,
  matches jsonb not null,
  candidates_considered integer not null,
  model_version text not null,
  profile_updated_at timestamptz not null,
  neighbours_hash text not null,
  parameters_hash text not null,
  computed_at timestamptz not null default clock_timestamp()
);
