import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  Channel,
  NotificationTimingService,
  NotificationType,
  Urgency,
} from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import type { AreaFactory } from "../runtime/area.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import { log } from "../runtime/log.js";
import { onRowChanges } from "../runtime/storage/row-changes.js";
import type { Sql } from "../runtime/storage/database.js";
import { decide, type UrgencyName } from "./model/decide.js";
import { buildUserState, populationPrior, type ActivityEvent, type NotificationTypeName, type PopulationPrior, type UserState } from "./model/engagement.js";
import { StateStore } from "./state-store.js";

const MODEL_VERSION = "notify-hour-of-week-v1";
const TYPES: Record<NotificationType, NotificationTypeName | undefined> = {
  [NotificationType.UNSPECIFIED]: undefined,
  [NotificationType.MATCH_FOUND]: "match_found",
  [NotificationType.MESSAGE]: "message",
  [NotificationType.REMINDER]: "reminder",
};
const URGENCIES: Record<Urgency, UrgencyName | undefined> = {
  [Urgency.UNSPECIFIED]: undefined,
  [Urgency.LOW]: "low",
  [Urgency.MEDIUM]: "medium",
  [Urgency.HIGH]: "high",
};
const CHANNELS = { push: Channel.PUSH, email: Channel.EMAIL, sms: Channel.SMS } as const;

/**
 * NotificationTiming: per-traveller hour-of-week engagement (cached in
 * Redis), shrunk toward the population's habits, which are learned at start
 * from a sample of travellers and refreshed hourly.
 */
export const notifyArea: AreaFactory = async (deps) => {
  const store = new StateStore(deps.db.sql, deps.redis, deps.metrics, deps.config.redisPrefix);
  // New events and preferences, written by anyone, drop the traveller's cached state.
  const changes = await Promise.all(["activity_events", "user_notification_prefs"].map((table) => onRowChanges(deps.db, table, (id) => store.forget(id))));
  let prior = await learnPrior(deps.db.sql);
  const timer = setInterval(() => {
    learnPrior(deps.db.sql).then(
      (p) => (prior = p),
      (err) => log.warn("could not refresh the notification prior", { error: String(err) }),
    );
  }, 3_600_000);
  timer.unref();
  const requests = deps.metrics.inferenceRequests.labels("notify");
  const impl: ServiceImpl<typeof NotificationTimingService> = {
    async optimizeNotificationTiming(req) {
      requests.inc();
      const now = Date.now();
      const state = await store.get(req.userId, now);
      if (!state) throw MeshError.notFound(`traveller not found: ${req.userId}`);
      const d = decide(state, prior, { type: TYPES[req.notificationType]!, urgency: URGENCIES[req.urgency]! }, now);
      return {
        sendAt: timestampFromMs(d.sendAt),
        channel: CHANNELS[d.channel],
        confidence: d.confidence,
        reason: d.reason,
        coldStart: d.coldStart,
        modelVersion: MODEL_VERSION,
      };
    },
  };
  return {
    service: NotificationTimingService,
    impl,
    close: async () => {
      clearInterval(timer);
      await Promise.all(changes.map((c) => c.close()));
    },
  };
};

/** The population's habits from up to 5,000 travellers' last 90 days; uniform with no data. */
export async function learnPrior(sql: Sql, now = Date.now()): Promise<PopulationPrior> {
  const rows = await sql<{ user_id: string; timezone: string; q1: number; q2: number; kind: ActivityEvent["kind"]; channel: ActivityEvent["channel"] | null; notification_type: ActivityEvent["notificationType"] | null; occurred_at: Date }[]>`
    with sample as (select user_id, timezone, quiet_start_hour, quiet_end_hour from user_notification_prefs order by user_id limit 5000)
    select s.user_id::text, s.timezone, s.quiet_start_hour as q1, s.quiet_end_hour as q2, e.kind, e.channel, e.notification_type, e.occurred_at
    from sample s join activity_events e using (user_id)
    where e.occurred_at > ${new Date(now - 90 * 86_400_000)}`;
  const byUser = new Map<string, { prefs: { timezone: string; quietStartHour: number; quietEndHour: number }; events: ActivityEvent[] }>();
  for (const r of rows) {
    let u = byUser.get(r.user_id);
    if (!u) byUser.set(r.user_id, (u = { prefs: { timezone: r.timezone, quietStartHour: r.q1, quietEndHour: r.q2 }, events: [] }));
    u.events.push({ kind: r.kind, channel: r.channel ?? undefined, notificationType: r.notification_type ?? undefined, at: r.occurred_at.getTime() });
  }
  const states: UserState[] = [...byUser.values()].map((u) => buildUserState(u.events, u.prefs, now));
  return populationPrior(states);
}
