import type { NotificationRecord } from "./store.js";

/** Delivers one notification on its channel, or throws a DeliveryError. */
export interface DeliveryAdapter {
  deliver(n: NotificationRecord, signal: AbortSignal): Promise<void>;
  close?(): void;
}

/**
 * Why a delivery did not happen. A permanent one (nothing to send it with, no
 * recipient) is recorded failed at once; any other is tried again until the
 * attempts are spent, then dead-lettered.
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}
