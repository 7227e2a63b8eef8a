-- Traveller profiles, what they did, and the text statistics their features use.
create table if not exists travellers (
  id uuid primary key,
  display_name text not null,
  age integer not null check (age between 18 and 120),
  min_accepted_age integer not null,
  max_accepted_age integer not null,
  latitude double precision not null check (latitude between -90 and 90),
  longitude double precision not null check (longitude between -180 and 180),
  city text not null default '',
  interests text[] not null default '{}',
  needs text[] not null default '{}',
  travel_style text not null,
  bio text not null default '',
  prompt_answers text[] not null default '{}',
  -- [{"destination": "Lisbon", "start_day": 20500, "end_day": 20507}], days since 1970-01-01
  trips jsonb not null default '[]',
  -- Hashed TF-IDF vectors of bio, prompt and whole profile, written with the profile (see text-features.ts).
  text_features bytea,
  updated_at timestamptz not null default now()
);
-- Distance prefilter: a latitude range scan with longitude and age checked in the index.
create index if not exists travellers_geo_age on travellers (latitude, longitude, age);

create table if not exists traveller_interactions (
  from_id uuid not null,
  to_id uuid not null,
  kind text not null check (kind in ('like', 'pass', 'match', 'message')),
  created_at timestamptz not null
);
create index if not exists traveller_interactions_from on traveller_interactions (from_id);
create index if not exists traveller_interactions_to on traveller_interactions (to_id);

-- Inverse document frequencies of the hashed text buckets, fitted on the population.
create table if not exists match_text_idf (
  id integer primary key,
  idf bytea not null,
  documents integer not null,
  created_at timestamptz not null default now()
);
