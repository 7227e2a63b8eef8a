import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  EngagementKind,
  type NotificationDeliveryService,
  type SendNotificationRequest,
} from "../../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { Channel } from "../../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { MeshError } from "../../runtime/errors.js";
import type { ServiceImpl } from "../../runtime/handler.js";
import { log } from "../../runtime/log.js";
import { Status } from "../../runtime/status.js";
import { CHANNELS, TYPES, URGENCIES } from "../handlers.js";
import { earliestAllowed } from "../model/decide.js";
import type { ChannelName } from "../model/engagement.js";
import type { TimingModel } from "../timing.js";
import type { Deliverer } from "./deliverer.js";
import { notificationMessage } from "./message.js";
import type { DeliveryStore, NotificationRecord } from "./store.js";

/** What the NotificationDelivery RPCs work with, built once by the area. */
export interface DeliveryParts {
  readonly timing: TimingModel;
  readonly store: DeliveryStore;
  readonly deliverer: Deliverer;
}

export function deliveryHandlers(p: DeliveryParts): ServiceImpl<typeof NotificationDeliveryService> {
  return {
    sendNotification: async (req) => ({ notification: notificationMessage(await send(p, req)) }),
    getNotification: async (req) => ({ notification: notificationMessage(await existing(p, req.notificationId)) }),
    cancelNotification: async (req) => {
      const found = await p.store.cancel(req.notificationId);
      if (!found) throw MeshError.notFound(`notification not found: ${req.notificationId}`);
      // Cancelling twice leaves it cancelled: the second call answers as the first did.
      if (!found.cancelled && found.record.status !== "cancelled") {
        const why = found.record.status === "scheduled" ? "being delivered now" : found.record.status.replace("_", "-");
        throw new MeshError(Status.FAILED_PRECONDITION, `notification ${req.notificationId} cannot be cancelled: it is ${why}`);
      }
      await p.deliverer.unschedule(req.notificationId);
      return { notification: notificationMessage(found.record) };
    },
    recordNotificationEngagement: async (req) => {
      const n = await p.store.engage(req.notificationId, req.kind === EngagementKind.CLICK ? "click" : "open");
      if (!n) throw MeshError.notFound(`notification not found: ${req.notificationId}`);
      if (n.status !== "sent")
        throw new MeshError(
          Status.FAILED_PRECONDITION,
          `notification ${req.notificationId} was not sent (it is ${n.status.replace("_", "-")}): there is nothing to open`,
        );
      return { notification: notificationMessage(n) };
    },
  };
}

async function existing(p: DeliveryParts, id: string): Promise<NotificationRecord> {
  const n = await p.store.get(id);
  if (!n) throw MeshError.notFound(`notification not found: ${id}`);
  return n;
}

/**
 * Decides when and where (the timing model, in process), records the
 * notification, and queues it for that time. A send_time in the request wins
 * over the model's, but not over quiet hours: inside them it moves to their end.
 */
async function send(p: DeliveryParts, req: SendNotificationRequest): Promise<NotificationRecord> {
  // Checked here rather than in the contract: the mesh's compiled rules cover neither `required` nor `email`.
  if (!req.payload) throw invalid("payload", "required", "value is required");
  if (req.emailAddress && !EMAIL.test(req.emailAddress))
    throw invalid("email_address", "string.email", "value must be a valid email address");
  const now = Date.now();
  const type = TYPES[req.notificationType]!;
  const urgency = URGENCIES[req.urgency]!;
  const found = await p.timing.decide(req.userId, { type, urgency }, now);
  if (!found) throw MeshError.notFound(`traveller not found: ${req.userId}`);
  const { state, decision } = found;
  let sendAt = decision.sendAt;
  let reason = decision.reason;
  if (req.sendTime) {
    const asked = Math.max(now, timestampMs(req.sendTime));
    sendAt = earliestAllowed(asked, state);
    reason = sendAt === asked ? "send_time given" : "send_time given, moved to the end of the traveller's quiet hours";
  }
  const channel = req.channel === Channel.UNSPECIFIED ? decision.channel : channelName(req.channel);
  const { record, created } = await p.store.create({
    userId: req.userId,
    notificationType: type,
    urgency,
    channel,
    title: req.payload!.title,
    body: req.payload!.body,
    data: (req.payload!.data ?? {}) as Record<string, unknown>,
    emailAddress: req.emailAddress,
    reason,
    sendAt: new Date(sendAt),
    idempotencyKey: req.idempotencyKey || undefined,
  });
  if (!created && record.status !== "scheduled") return record;
  try {
    await p.deliverer.schedule(record);
  } catch (err) {
    log.warn("notification submit refused: queue unavailable", { error: String(err) });
    // Without a key nothing may look scheduled that is not; with one, a retry with the key queues it.
    if (!req.idempotencyKey) await p.store.discard(record.notificationId).catch(() => undefined);
    throw MeshError.unavailable(
      req.idempotencyKey
        ? "the notification queue (Redis) is unavailable; retry later with the same idempotency_key"
        : "the notification queue (Redis) is unavailable; nothing was scheduled, retry later",
    );
  }
  return record;
}

/** An address as a mail server takes it in RCPT TO: one @, a dotted domain, no spaces or angle brackets. */
const EMAIL = /^[^\s@<>()",;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

function invalid(field: string, rule: string, message: string): MeshError {
  return new MeshError(Status.INVALID_ARGUMENT, `${field}: ${message} [${rule}]`, [{ field, rule, message }]);
}

function channelName(c: Channel): ChannelName {
  for (const [name, value] of Object.entries(CHANNELS)) if (value === c) return name as ChannelName;
  throw new Error(`unknown channel ${c}`);
}
