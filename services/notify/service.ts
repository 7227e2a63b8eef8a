import { NotificationDeliveryService } from "../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { NotificationTimingService } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { loadJobsConfig } from "../jobs/index.js";
import type { AreaFactory } from "../runtime/area.js";
import { INFER, type MethodScopes } from "../runtime/keys/scopes.js";
import type { DeliveryAdapter } from "./delivery/adapter.js";
import { loadDeliveryConfig, type AdapterName } from "./delivery/config.js";
import { Deliverer } from "./delivery/deliverer.js";
import { deliveryHandlers } from "./delivery/handlers.js";
import { smtpAdapter } from "./delivery/smtp.js";
import { DeliveryStore } from "./delivery/store.js";
import { webhookAdapter } from "./delivery/webhook.js";
import { notifyHandlers } from "./handlers.js";
import { holdTimingModel } from "./timing.js";

/**
 * NotificationTiming: per-traveller hour-of-week engagement (cached in
 * Redis), shrunk toward the population's habits: the prior `notify` training
 * promoted in the registry (reloaded when a promotion is announced), or, with
 * none, learned at start from a sample of travellers. Either is re-read hourly.
 */
export const notifyArea: AreaFactory = async (deps) => {
  const { timing, release } = await holdTimingModel(deps);
  return {
    service: NotificationTimingService,
    scopes: INFER,
    impl: notifyHandlers({ timing, metrics: deps.metrics }),
    close: release,
  };
};

/**
 * Sending a notification, looking at it and cancelling it is the back end's
 * business (`jobs`, as submitting jobs is); opens and clicks are reported by
 * the apps, which hold `infer` keys.
 */
const DELIVERY_SCOPES: MethodScopes = { default: "jobs", methods: { RecordNotificationEngagement: "infer" } };

/**
 * NotificationDelivery: notifications sent at the time and on the channel
 * the timing model picks (in process), through the channel's adapter
 * (webhook or SMTP), from a delayed BullMQ queue with a record per
 * notification in PostgreSQL; opens and clicks become the activity the
 * timing model learns from.
 */
export const notificationDeliveryArea: AreaFactory = async (deps) => {
  const config = loadDeliveryConfig(process.env);
  const queuePrefix = loadJobsConfig(process.env, deps.config.redisPrefix).prefix;
  const adapters: Partial<Record<AdapterName, DeliveryAdapter>> = {};
  if (config.webhookUrl) adapters.webhook = webhookAdapter(config.webhookUrl, config.webhookSecret, config.attemptTimeoutMs);
  if (config.smtpUrl) adapters.smtp = smtpAdapter(config.smtpUrl, config.from, config.attemptTimeoutMs);
  const { timing, release } = await holdTimingModel(deps);
  const store = new DeliveryStore(deps.db.sql);
  const deliverer = new Deliverer(deps.config.redisUrl, queuePrefix, config, store, adapters, deps.metrics.registry);
  return {
    service: NotificationDeliveryService,
    scopes: DELIVERY_SCOPES,
    impl: deliveryHandlers({ timing, store, deliverer }),
    close: async () => {
      await deliverer.close();
      await release();
    },
  };
};
