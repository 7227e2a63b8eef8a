-- Each traveller's bio and prompt answers as two word-vector means (int8, 100 bytes each, bio first; see
-- features/text-parts.ts): the bio and prompt-answer similarities of match model v2. Written by the seed and
-- refreshed with text_embedding when a profile's change is announced.
alter table travellers add column if not exists text_parts bytea;
