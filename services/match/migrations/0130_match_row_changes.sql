-- A changed or removed profile is announced (see 0020_row_changes.sql); new travellers have nothing cached.
create or replace function mlmesh_announce_changed_travellers() returns trigger language plpgsql as $$
begin
  perform pg_notify('mlmesh_row_changes', TG_TABLE_NAME || ':' || k) from (select distinct id::text as k from changed) c;
  return null;
end $$;
drop trigger if exists travellers_updated_announce on travellers;
create trigger travellers_updated_announce after update on travellers
  referencing new table as changed for each statement execute function mlmesh_announce_changed_travellers();
drop trigger if exists travellers_deleted_announce on travellers;
create trigger travellers_deleted_announce after delete on travellers
  referencing old table as changed for each statement execute function mlmesh_announce_changed_travellers();
