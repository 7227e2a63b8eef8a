-- The distance prefilter ranks candidates from the index alone (index-only scan: id is included),
-- then reads the full rows of the nearest only; a dense city no longer drags thousands of scattered
-- heap pages through the sort. Replaces travellers_geo_age.
create index if not exists travellers_geo_age_covering on travellers (latitude, longitude, age) include (id);
drop index if exists travellers_geo_age;
