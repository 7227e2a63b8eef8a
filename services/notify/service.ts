import { NotificationTimingService } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { notifyHandlers } from "./handlers.js";
import { onPromotion, MODELS } from "../registry/index.js";
import { loadServedPrior, type ServedPrior } from "./serving-prior.js";
import { StateStore } from "./state-store.js";
import { INFER } from "../runtime/keys/scopes.js";

/**
 * NotificationTiming: per-traveller hour-of-week engagement (cached in
 * Redis), shrunk toward the population's habits: the prior `notify` training
 * promoted in the registry (reloaded when a promotion is announced), or, with
 * none, learned at start from a sample of travellers. Either is re-read hourly.
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
  let prior: ServedPrior = await loadServedPrior(deps.db.sql);
  const refresh = () =>
    loadServedPrior(deps.db.sql).then(
      (p) => (prior = p),
      (err) => log.warn("could not refresh the notification prior", { error: String(err) }),
    );
  const timer = setInterval(refresh, 3_600_000);
  timer.unref();
  const promotions = onPromotion(
    {
      redisUrl: deps.config.redisUrl,
      redisPrefix: deps.config.redisPrefix,
      model: MODELS.notify,
      missed: "notify prior promotions will not arrive until it returns",
    },
    () => void refresh(),
  );
  return {
    service: NotificationTimingService,
    scopes: INFER,
    impl: notifyHandlers({ store, prior: () => prior, metrics: deps.metrics }),
    close: async () => {
      clearInterval(timer);
      promotions.close();
      await Promise.all(changes.map((c) => c.close()));
    },
  };
};
