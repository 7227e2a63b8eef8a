import type { AreaDeps } from "../runtime/area.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import { decide, type Decision, type UrgencyName } from "./model/decide.js";
import type { NotificationTypeName, PopulationPrior, UserState } from "./model/engagement.js";
import { learnPrior } from "./prior.js";
import { StateStore } from "./state-store.js";

/**
 * The timing model as a process runs it: travellers' states (cached, dropped
 * when PostgreSQL announces their activity or preferences changed) and the
 * population's habits, learned at start and refreshed hourly. Both
 * NotificationTiming and NotificationDelivery decide through one of these.
 */
export interface TimingModel {
  readonly store: StateStore;
  /** The population's habits as last learned. */
  prior(): PopulationPrior;
  /** The traveller's state and the model's decision, or undefined when no such traveller exists. */
  decide(
    userId: string,
    req: { type: NotificationTypeName; urgency: UrgencyName },
    now: number,
  ): Promise<{ state: UserState; decision: Decision } | undefined>;
  close(): Promise<void>;
}

export async function startTimingModel(deps: AreaDeps): Promise<TimingModel> {
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
    store,
    prior: () => prior,
    async decide(userId, req, now) {
      const state = await store.get(userId, now);
      return state && { state, decision: decide(state, prior, req, now) };
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all(changes.map((c) => c.close()));
    },
  };
}
