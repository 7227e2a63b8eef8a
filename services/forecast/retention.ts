import type { RetentionTarget } from "../jobs/index.js";

/**
 * Cached forecasts (ml_predictions) past their expiry are never served again
 * (a read refits), but stay until removed: the workers' retention clean-up
 * deletes those expired for more than MLMESH_RETENTION_PREDICTIONS_DAYS.
 */
export const predictionsRetention: RetentionTarget = {
  what: "predictions",
  setting: { name: "MLMESH_RETENTION_PREDICTIONS_DAYS", fallback: 1, min: 0, max: 36_500 },
  remove: async (sql, days) => {
    const gone = await sql`delete from ml_predictions where expires_at < clock_timestamp() - ${days} * interval '1 day'`;
    return gone.count;
  },
};
