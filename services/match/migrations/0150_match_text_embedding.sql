-- Each traveller's 100-dimensional text vector (int8, 100 bytes; see features/traveller-vector.ts),
-- from interests, bio and prompt answers. Written by the seed and refreshed by the match servers when
-- a profile's change is announced. Searches score the candidates the geo prefilter leaves in process:
-- pgvector is in neither Debian 12's archive nor PGlite 0.5.
alter table travellers add column if not exists text_embedding bytea;
