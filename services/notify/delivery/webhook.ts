import { createHmac } from "node:crypto";
import { DeliveryError, type DeliveryAdapter } from "./adapter.js";
import type { NotificationRecord } from "./store.js";

/** The header carrying the delivery's Unix time in seconds, signed with the body. */
export const TIMESTAMP_HEADER = "x-mlmesh-timestamp";
/** The header carrying `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export const SIGNATURE_HEADER = "x-mlmesh-signature";

/** The signature header's value for a body sent at `timestamp` (Unix seconds). */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The JSON a webhook receives for one notification. */
export function webhookBody(n: NotificationRecord): string {
  return JSON.stringify({
    notification_id: n.notificationId,
    user_id: n.userId,
    notification_type: n.notificationType,
    urgency: n.urgency,
    channel: n.channel,
    title: n.title,
    body: n.body,
    data: n.data,
    send_at: n.sendAt.toISOString(),
    attempt: n.attempts,
  });
}

/**
 * POSTs each notification as JSON, signed: the receiver recomputes the HMAC
 * over the timestamp and the raw body with the shared secret, and refuses a
 * stale timestamp, so a captured request cannot be replayed later. Any
 * answer but 2xx (or no answer in time) is an attempt that failed.
 */
export function webhookAdapter(url: string, secret: string, timeoutMs: number): DeliveryAdapter {
  return {
    async deliver(n, signal) {
      const body = webhookBody(n);
      const timestamp = String(Math.floor(Date.now() / 1000));
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: sign(secret, timestamp, body),
            "x-mlmesh-notification-id": n.notificationId,
          },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
      } catch (err) {
        throw new DeliveryError(`webhook unreachable: ${(err as Error).cause ?? (err as Error).message}`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new DeliveryError(`webhook answered HTTP ${res.status}`);
    },
  };
}
