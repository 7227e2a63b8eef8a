import { MODELS, onPromotion } from "../registry/index.js";
import type { AreaDeps } from "../runtime/area.js";
import { log } from "../runtime/log.js";
import type { Database } from "../runtime/storage/database.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { decide, type Decision, type UrgencyName } from "./model/decide.js";
import type { NotificationTypeName, UserState } from "./model/engagement.js";
import { loadServedPrior, type ServedPrior } from "./serving-prior.js";
import { StateStore } from "./state-store.js";

/**
 * The timing model as a process runs it: travellers' states (cached, dropped
 * when PostgreSQL announces their activity or preferences changed) and the
 * population's habits: the prior `notify` training promoted in the registry
 * (reloaded when a promotion is announced), or, with none, learned at start
 * from a sample of travellers; either is re-read hourly. Both
 * NotificationTiming and NotificationDelivery decide through one of these.
 */
export interface TimingModel {
  readonly store: StateStore;
  /** The population's habits as last loaded (from the registry) or learned, and which registry version they are. */
  served(): ServedPrior;
  /**
   * The traveller's state and the model's decision, and the registry version of the prior it used
   * (undefined when learned here), or undefined when no such traveller exists.
   */
  decide(
    userId: string,
    req: { type: NotificationTypeName; urgency: UrgencyName },
    now: number,
  ): Promise<{ state: UserState; decision: Decision; prior: number | undefined } | undefined>;
  close(): Promise<void>;
}

async function startTimingModel(deps: AreaDeps): Promise<TimingModel> {
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
  let served = await loadServedPrior(deps.db.sql);
  const refresh = () =>
    loadServedPrior(deps.db.sql).then(
      (p) => (served = p),
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
    store,
    served: () => served,
    async decide(userId, req, now) {
      const state = await store.get(userId, now);
      const { prior, version } = served;
      return state && { state, decision: decide(state, prior, req, now), prior: version };
    },
    close: async () => {
      clearInterval(timer);
      promotions.close();
      await Promise.all(changes.map((c) => c.close()));
    },
  };
}

/** Timing models shared by the areas of one mesh (keyed by its database), with how many areas hold each. */
const shared = new WeakMap<Database, { model: Promise<TimingModel>; holders: number }>();

/**
 * The mesh's one timing model: started by the first area that asks, closed
 * when the last one releases it. NotificationTiming and NotificationDelivery
 * then decide from one cache of travellers' states, one prior and one set of
 * listeners, and the prior (when none is promoted, a read of a sample of
 * travellers' activity) is learned once per process, not once per area.
 */
export async function holdTimingModel(deps: AreaDeps): Promise<{ timing: TimingModel; release(): Promise<void> }> {
  let entry = shared.get(deps.db);
  if (!entry) {
    entry = { model: startTimingModel(deps), holders: 0 };
    shared.set(deps.db, entry);
  }
  const held = entry;
  held.holders++;
  let timing: TimingModel;
  try {
    timing = await held.model;
  } catch (err) {
    // A failed start is not kept: the next area to ask starts afresh.
    if (--held.holders === 0 && shared.get(deps.db) === held) shared.delete(deps.db);
    throw err;
  }
  let released = false;
  return {
    timing,
    release: async () => {
      if (released) return;
      released = true;
      if (--held.holders > 0) return;
      if (shared.get(deps.db) === held) shared.delete(deps.db);
      await timing.close();
    },
  };
}
