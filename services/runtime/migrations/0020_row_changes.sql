-- Servers cache per-traveller state (profiles, engagement, folded-in vectors). Whoever changes the rows
-- behind it (this mesh, another service, psql), PostgreSQL announces which travellers changed on
-- channel mlmesh_row_changes as '<table>:<traveller id>', once per traveller and statement, and every
-- server drops its copies (services/runtime/storage/row-changes.ts). Areas attach the triggers to
-- their tables; a statement trigger with a transition table keeps a bulk load to one statement.
create or replace function mlmesh_announce_changed_users() returns trigger language plpgsql as $$
begin
  perform pg_notify('mlmesh_row_changes', TG_TABLE_NAME || ':' || k) from (select distinct user_id::text as k from changed) c;
  return null;
end $$;
