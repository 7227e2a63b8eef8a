-- A traveller's new views, saves and bookings are announced (see 0020_row_changes.sql).
drop trigger if exists destination_interactions_announce on destination_interactions;
create trigger destination_interactions_announce after insert on destination_interactions
  referencing new table as changed for each statement execute function mlmesh_announce_changed_users();
