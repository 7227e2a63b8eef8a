import { log } from "../log.js";
import type { Database } from "./database.js";

/** The channel the 0020_row_changes.sql triggers announce on. */
const CHANNEL = "mlmesh_row_changes";

export interface RowChanges {
  close(): Promise<void>;
}

/**
 * Calls `forget` with each traveller whose rows in `table` changed, as
 * PostgreSQL announces them (LISTEN; see Database.listen). Every server hears
 * every change, whoever made it, so caches need no cooperation from writers.
 * Where LISTEN is not available, cached state lives out its time-to-live, and
 * that is said once. When the listener's connection was lost and is listening
 * again, `forgetAll` runs: changes made in between were announced to no one.
 */
export async function onRowChanges(db: Database, table: string, forget: (key: string) => void, forgetAll: () => void): Promise<RowChanges> {
  const prefix = `${table}:`;
  let listening = false;
  try {
    const unlisten = await db.listen(
      CHANNEL,
      (payload) => {
        if (payload.startsWith(prefix)) forget(payload.slice(prefix.length));
      },
      () => {
        if (listening) {
          log.warn(`listening for ${table} changes again: cached state of every traveller is dropped`);
          forgetAll();
        }
        listening = true;
      },
    );
    return { close: () => unlisten() };
  } catch (err) {
    log.warn(`no change announcements from the database: cached ${table} state lives out its time-to-live`, { error: String(err) });
    return { close: async () => undefined };
  }
}
