-- A traveller's new activity and changed preferences are announced (see 0020_row_changes.sql).
drop trigger if exists activity_events_announce on activity_events;
create trigger activity_events_announce after insert on activity_events
  referencing new table as changed for each statement execute function mlmesh_announce_changed_users();
drop trigger if exists user_notification_prefs_inserted_announce on user_notification_prefs;
create trigger user_notification_prefs_inserted_announce after insert on user_notification_prefs
  referencing new table as changed for each statement execute function mlmesh_announce_changed_users();
drop trigger if exists user_notification_prefs_updated_announce on user_notification_prefs;
create trigger user_notification_prefs_updated_announce after update on user_notification_prefs
  referencing new table as changed for each statement execute function mlmesh_announce_changed_users();
