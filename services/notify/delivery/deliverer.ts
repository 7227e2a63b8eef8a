import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { Counter, Histogram, type Registry } from "prom-client";
import { log } from "../../runtime/log.js";
import { DeliveryError, type DeliveryAdapter } from "./adapter.js";
import type { AdapterName, DeliveryConfig } from "./config.js";
import type { DeliveryStore, NotificationRecord } from "./store.js";

/** The BullMQ queue notifications wait in until their send time. */
export const DELIVERY_QUEUE = "notifications";

interface QueuedNotification {
  notificationId: string;
}

/**
 * The delivery engine: each notification is a delayed entry on the
 * `notifications` queue (its id is the notification's, so queueing it twice
 * is a no-op), taken by a worker in every serving process at its send time.
 * The worker counts the attempt in PostgreSQL first (a cancelled notification
 * is skipped there), hands it to the channel's adapter, and records the
 * outcome. Failed attempts go back to BullMQ, which retries them with
 * exponential backoff; the last one dead-letters the notification.
 */
export class Deliverer {
  private readonly producer: Redis;
  private readonly consumer: Redis;
  private readonly queue: Queue<QueuedNotification>;
  private readonly worker: Worker<QueuedNotification>;
  private readonly attempts: Counter<"channel" | "outcome">;
  private readonly lateness: Histogram<"channel">;

  constructor(
    redisUrl: string,
    /** The job queues' prefix (MLMESH_QUEUE_PREFIX), so deployments sharing a Redis keep apart. */
    prefix: string,
    private readonly config: DeliveryConfig,
    private readonly store: DeliveryStore,
    private readonly adapters: Partial<Record<AdapterName, DeliveryAdapter>>,
    registry: Registry,
  ) {
    this.attempts = new Counter({
      name: "mlmesh_notification_attempts_total",
      help: "Notification delivery attempts by channel and outcome (sent, retried, failed, dead_lettered).",
      labelNames: ["channel", "outcome"] as const,
      registers: [registry],
    });
    this.lateness = new Histogram({
      name: "mlmesh_notification_lateness_seconds",
      help: "Time from a notification's send_at to its delivery, by channel.",
      labelNames: ["channel"] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300],
      registers: [registry],
    });
    // Fails fast, so a submit while Redis is down is refused at once rather than waiting.
    this.producer = new Redis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (n) => Math.min(200 * n, 2000),
      connectionName: "mlmesh-notify-producer",
    });
    this.producer.on("error", () => undefined);
    this.queue = new Queue(DELIVERY_QUEUE, { connection: this.producer, prefix });
    this.queue.on("error", () => undefined);
    this.consumer = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: "mlmesh-notify-worker" });
    this.consumer.on("error", () => undefined);
    this.worker = new Worker(DELIVERY_QUEUE, (job) => this.attempt(job), {
      connection: this.consumer,
      prefix,
      // Deliveries wait on the network, not the CPU.
      concurrency: 32,
    });
    // With Redis away the worker reports each reconnection: once a minute is enough to say so.
    let logged = 0;
    this.worker.on("error", (err) => {
      if (Date.now() - logged < 60_000) return;
      logged = Date.now();
      log.warn("notification worker error", { error: String(err) });
    });
  }

  /** Queues a recorded notification for its send time. */
  async schedule(n: NotificationRecord): Promise<void> {
    if (this.producer.status !== "ready") await waitReady(this.producer);
    await this.queue.add(
      n.notificationType,
      { notificationId: n.notificationId },
      {
        jobId: n.notificationId,
        delay: Math.max(0, n.sendAt.getTime() - Date.now()),
        attempts: this.config.attempts,
        backoff: { type: "exponential", delay: this.config.backoffMs },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 7 * 86_400, count: 10_000 },
      },
    );
  }

  /** Drops a cancelled notification's queue entry (best effort: the worker skips it anyway). */
  async unschedule(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => undefined);
  }

  private async attempt(job: Job<QueuedNotification>): Promise<string> {
    const id = job.data.notificationId;
    const n = await this.store.beginAttempt(id);
    if (!n) return "not scheduled"; // cancelled, or ended by an earlier run of this entry
    const adapterName = this.config.adapters[n.channel];
    const adapter = adapterName && this.adapters[adapterName];
    if (!adapter) {
      const why = adapterName
        ? `the ${n.channel} channel goes through the ${adapterName} adapter, which is not configured (${adapterName === "webhook" ? "MLMESH_NOTIFY_WEBHOOK_URL" : "MLMESH_SMTP_URL"})`
        : `no adapter is configured for the ${n.channel} channel (MLMESH_NOTIFY_CHANNELS)`;
      await this.store.finish(id, "failed", why);
      this.attempts.inc({ channel: n.channel, outcome: "failed" });
      return "failed";
    }
    try {
      await adapter.deliver(n, AbortSignal.timeout(this.config.attemptTimeoutMs * 2));
    } catch (err) {
      const message = err instanceof DeliveryError ? err.message : `delivery failed: ${String(err)}`;
      if (err instanceof DeliveryError && err.permanent) {
        await this.store.finish(id, "failed", message);
        this.attempts.inc({ channel: n.channel, outcome: "failed" });
        return "failed";
      }
      if (n.attempts >= this.config.attempts) {
        await this.store.finish(id, "dead_lettered", `${message} (attempt ${n.attempts} of ${this.config.attempts})`);
        this.attempts.inc({ channel: n.channel, outcome: "dead_lettered" });
        log.warn("notification dead-lettered", { notification_id: id, error: message });
        return "dead-lettered";
      }
      await this.store.noteError(id, message);
      this.attempts.inc({ channel: n.channel, outcome: "retried" });
      throw err; // BullMQ tries again after its backoff
    }
    await this.store.finish(id, "sent");
    this.attempts.inc({ channel: n.channel, outcome: "sent" });
    this.lateness.observe({ channel: n.channel }, Math.max(0, Date.now() - n.sendAt.getTime()) / 1000);
    return "sent";
  }

  async close(): Promise<void> {
    await this.worker.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    for (const a of Object.values(this.adapters)) a?.close?.();
    this.producer.disconnect();
    this.consumer.disconnect();
  }
}

function waitReady(redis: Redis, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis is ${redis.status}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
