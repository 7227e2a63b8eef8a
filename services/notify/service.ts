import { NotificationTimingService } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { notifyHandlers } from "./handlers.js";
import { learnPrior } from "./prior.js";
import { StateStore } from "./state-store.js";
import { INFER } from "../runtime/keys/scopes.js";

/**
 * NotificationTiming: per-traveller hour-of-week engagement (cached in
 * Redis), shrunk toward the population's habits, which are learned at start
 * from a sample of travellers and refreshed hourly.
 */
export const notifyArea: AreaFactory = async (deps) => {
  const store = new StateStore(deps.db.sql, deps.redis, deps.metrics, deps.config.redisPrefix);
  // New events and preferences, written by anyone, drop the traveller's cached state.
  const changes = await Promise.all(
    ["activity_events", "user_notification_prefs"].map((table) =>
      onRowChanges(
        deps.db,
        table,
        (id) => store.forget(id),
        () => store.forgetAll(),
      ),
    ),
  );
  let prior = await learnPrior(deps.db.sql);
  const timer = setInterval(() => {
    learnPrior(deps.db.sql).then(
      (p) => (prior = p),
      (err) => log.warn("could not refresh the notification prior", { error: String(err) }),
    );
  }, 3_600_000);
  timer.unref();
  return {
    service: NotificationTimingService,
    scopes: INFER,
    impl: notifyHandlers({ store, prior: () => prior, metrics: deps.metrics }),
    close: async () => {
      clearInterval(timer);
      await Promise.all(changes.map((c) => c.close()));
    },
  };
};
