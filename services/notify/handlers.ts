import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  Channel,
  NotificationType,
  Urgency,
  type NotificationTimingService,
  type OptimizeNotificationTimingRequest,
} from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { MeshError } from "../runtime/errors.js";
import type { ServiceImpl } from "../runtime/handler.js";
import type { MeshMetrics } from "../runtime/metrics.js";
import type { UrgencyName } from "./model/decide.js";
import type { NotificationTypeName } from "./model/engagement.js";
import type { TimingModel } from "./timing.js";

const MODEL_VERSION = "notify-hour-of-week-v1";
/** The contract's notification types by their model names (NotificationDelivery uses them too). */
export const TYPES: Record<NotificationType, NotificationTypeName | undefined> = {
  [NotificationType.UNSPECIFIED]: undefined,
  [NotificationType.MATCH_FOUND]: "match_found",
  [NotificationType.MESSAGE]: "message",
  [NotificationType.REMINDER]: "reminder",
};
/** The contract's urgencies by their model names. */
export const URGENCIES: Record<Urgency, UrgencyName | undefined> = {
  [Urgency.UNSPECIFIED]: undefined,
  [Urgency.LOW]: "low",
  [Urgency.MEDIUM]: "medium",
  [Urgency.HIGH]: "high",
};
/** The model's channels as the contract's. */
export const CHANNELS = { push: Channel.PUSH, email: Channel.EMAIL, sms: Channel.SMS } as const;

/** What the NotificationTiming handler works with, built once by notifyArea. */
export interface NotifyParts {
  readonly timing: TimingModel;
  readonly metrics: MeshMetrics;
}

export function notifyHandlers(parts: NotifyParts): ServiceImpl<typeof NotificationTimingService> {
  const requests = parts.metrics.inferenceRequests.labels("notify");
  return {
    optimizeNotificationTiming: (req) => {
      requests.inc();
      return optimizeNotificationTiming(parts, req);
    },
  };
}

/** When and on which channel to send, from the traveller's habits shrunk toward the population's. */
async function optimizeNotificationTiming(parts: NotifyParts, req: OptimizeNotificationTimingRequest) {
  const now = Date.now();
  const found = await parts.timing.decide(req.userId, { type: TYPES[req.notificationType]!, urgency: URGENCIES[req.urgency]! }, now);
  if (!found) throw MeshError.notFound(`traveller not found: ${req.userId}`);
  const d = found.decision;
  return {
    sendAt: timestampFromMs(d.sendAt),
    channel: CHANNELS[d.channel],
    confidence: d.confidence,
    reason: d.reason,
    coldStart: d.coldStart,
    // The registry version of the prior, when serving reads one.
    modelVersion: found.prior === undefined ? MODEL_VERSION : `${MODEL_VERSION}+prior.${found.prior}`,
  };
}
