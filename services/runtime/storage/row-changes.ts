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
 * that is said once.
 */
export async function onRowChanges(db: Database, table: string, forget: (key: string) => void): Promise<RowChanges> {
  const prefix = `${table}:`;
  try {
    const unlisten = await db.listen(CHANNEL, (payload) => {
      if (payload.startsWith(prefix)) forget(payload.slice(prefix.length));
    });
    return { close: () => unlisten() };
  } catch (err) {
    log.warn(`no change announcements from the database: cached ${table} state lives out its time-to-live`, { error: String(err) });
    return { close: async () => undefined };
  }
}
