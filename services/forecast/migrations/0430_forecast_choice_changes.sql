-- Servers keep each product's stored model choice in process (services/forecast/choice-cache.ts), so a
-- forecast does not read forecast_model_choices on every call. Whoever writes a choice (a `forecast`
-- training job in a worker, psql), PostgreSQL announces the product on mlmesh_row_changes as
-- 'forecast_model_choices:<product id>' (the channel of 0020_row_changes.sql) and every server drops
-- its copy. One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
create or replace function mlmesh_announce_changed_products() returns trigger language plpgsql as $$
begin
  perform pg_notify('mlmesh_row_changes', TG_TABLE_NAME || ':' || k) from (select distinct product_id as k from changed) c;
  return null;
end $$;
drop trigger if exists forecast_model_choices_inserted_announce on forecast_model_choices;
create trigger forecast_model_choices_inserted_announce after insert on forecast_model_choices
  referencing new table as changed for each statement execute function mlmesh_announce_changed_products();
drop trigger if exists forecast_model_choices_updated_announce on forecast_model_choices;
create trigger forecast_model_choices_updated_announce after update on forecast_model_choices
  referencing new table as changed for each statement execute function mlmesh_announce_changed_products();
drop trigger if exists forecast_model_choices_deleted_announce on forecast_model_choices;
create trigger forecast_model_choices_deleted_announce after delete on forecast_model_choices
  referencing old table as changed for each statement execute function mlmesh_announce_changed_products();
