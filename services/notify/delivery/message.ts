import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  NotificationSchema,
  NotificationStatus,
  type Notification,
} from "../../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { CHANNELS, TYPES, URGENCIES } from "../handlers.js";
import type { DeliveryStatus, NotificationRecord } from "./store.js";

const STATUSES: Record<DeliveryStatus, NotificationStatus> = {
  scheduled: NotificationStatus.SCHEDULED,
  sent: NotificationStatus.SENT,
  failed: NotificationStatus.FAILED,
  cancelled: NotificationStatus.CANCELLED,
  dead_lettered: NotificationStatus.DEAD_LETTERED,
};

/** The contract's value of a model name, from one of the handlers' maps. */
function contractValue<E extends number, N extends string>(map: Record<E, N | undefined>, name: N): E {
  for (const [value, n] of Object.entries(map)) if (n === name) return Number(value) as E;
  throw new Error(`unknown ${name}`);
}

/** A stored notification as the contract's message. */
export function notificationMessage(n: NotificationRecord): Notification {
  return create(NotificationSchema, {
    notificationId: n.notificationId,
    userId: n.userId,
    notificationType: contractValue(TYPES, n.notificationType),
    urgency: contractValue(URGENCIES, n.urgency),
    channel: CHANNELS[n.channel],
    status: STATUSES[n.status],
    sendTime: timestampFromDate(n.sendAt),
    sentTime: n.sentAt ? timestampFromDate(n.sentAt) : undefined,
    attempts: n.attempts,
    error: n.error,
    reason: n.reason,
    payload: { title: n.title, body: n.body, data: n.data as never },
    createTime: timestampFromDate(n.createdAt),
    openTime: n.openedAt ? timestampFromDate(n.openedAt) : undefined,
    clickTime: n.clickedAt ? timestampFromDate(n.clickedAt) : undefined,
  });
}
