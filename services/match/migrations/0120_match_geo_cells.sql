-- Travellers found and laid out by quarter-degree cell. The (latitude, longitude) index scanned a
-- whole band of latitude around the world for a 50 km search, and a table clustered on it scattered
-- one city's travellers among every other city at that latitude: a search read a heap page per
-- candidate. Cells are numbered row by row (latitude, then longitude), so a search box is one range
-- of cells per quarter degree of latitude, and CLUSTER on this index keeps each range together.
-- The numbering is mirrored by services/match/store/geo-cells.ts.
alter table travellers add column if not exists geo_cell integer
  generated always as (floor((latitude + 90) * 4)::integer * 1441 + floor((longitude + 180) * 4)::integer) stored;
create index if not exists travellers_cell_age on travellers (geo_cell, age) include (latitude, longitude, id);
drop index if exists travellers_geo_age_covering;
