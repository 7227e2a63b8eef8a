import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EngagementKind,
  NotificationDeliveryService,
  NotificationStatus,
} from "../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import {
  Channel,
  NotificationTimingService,
  NotificationType,
  Urgency,
} from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { isQuiet } from "../../services/notify/model/decide.js";
import { hourOfWeek } from "../../services/notify/model/local-time.js";
import { notificationDeliveryArea, notifyArea } from "../../services/notify/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";
import { startSmtpServer } from "../support/smtp-server.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
const SECRET = "webhook-secret-0123456789";
const H = 3_600_000;
const poll = { timeout: 20_000, interval: 50 };
/** An app's key: `infer` only. */
const APP_KEY = "travel-app-key-0123456789";

describe("NotificationDeliveryService", () => {
  let db: Database;
  let mesh: Mesh;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  /** Travellers without quiet hours, in UTC. */
  let free: string[];
  /** A traveller whose quiet hours (UTC) cover the next two hours. */
  let quiet: { id: string; start: number; end: number };
  const saved = { ...process.env };
  let keyDir = "";

  beforeAll(async () => {
    const scope = await testScope();
    db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 12, seed: 19 });
    const ids = (await db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
    free = ids.slice(0, 10);
    const hour = new Date().getUTCHours();
    quiet = { id: ids[10], start: hour, end: (hour + 2) % 24 };
    await db.sql`insert into user_notification_prefs ${db.sql(free.map((id) => ({ user_id: id, timezone: "UTC", quiet_start_hour: 0, quiet_end_hour: 0 })))}`;
    await db.sql`insert into user_notification_prefs values (${quiet.id}, 'UTC', ${quiet.start}, ${quiet.end})`;
    // Answers by title: "flaky" fails its first attempt, "broken" every attempt.
    webhook = await startWebhookReceiver(SECRET, (body, earlier) =>
      body.title === "broken" || (body.title === "flaky" && earlier.length === 0) ? 500 : 200,
    );
    smtp = await startSmtpServer();
    // The delivery area reads its settings from the environment, as at start.
    Object.assign(process.env, {
      MLMESH_NOTIFY_WEBHOOK_URL: webhook.url,
      MLMESH_NOTIFY_WEBHOOK_SECRET: SECRET,
      MLMESH_SMTP_URL: smtp.url,
      MLMESH_NOTIFY_FROM: "Travel <notify@travel.example>",
      MLMESH_NOTIFY_CHANNELS: "push=webhook,email=smtp", // sms: no adapter
      MLMESH_NOTIFY_ATTEMPTS: "3",
      MLMESH_NOTIFY_BACKOFF_MS: "50",
    });
    keyDir = mkdtempSync(join(tmpdir(), "mlmesh-delivery-keys-"));
    writeFileSync(join(keyDir, "keys.json"), JSON.stringify([{ name: "travel-app", key: APP_KEY, scopes: ["infer"] }]));
    ({ mesh } = await startTestMesh([notifyArea, notificationDeliveryArea], {
      DATABASE_URL: scope.databaseUrl,
      MLMESH_API_KEYS_FILE: join(keyDir, "keys.json"),
    }));
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await mesh?.shutdown();
    await Promise.all([webhook?.close(), smtp?.close(), db?.close()]);
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  const transport = () => createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` });
  const client = () => createClient(NotificationDeliveryService, transport());
  const timing = () => createClient(NotificationTimingService, transport());
  const send = (userId: string, title: string, more: Record<string, unknown> = {}) =>
    client().sendNotification(
      {
        userId,
        notificationType: NotificationType.MESSAGE,
        urgency: Urgency.MEDIUM,
        payload: { title, body: `about ${title}`, data: { link: "app://inbox/1" } },
        sendTime: timestampFromMs(Date.now()),
        channel: Channel.PUSH,
        ...more,
      },
      { headers },
    );
  const settled = async (id: string) => {
    let n = (await client().getNotification({ notificationId: id }, { headers })).notification!;
    await expect
      .poll(async () => (n = (await client().getNotification({ notificationId: id }, { headers })).notification!).status, poll)
      .not.toBe(NotificationStatus.SCHEDULED);
    return n;
  };
  const hooksFor = (id: string) => webhook.deliveries.filter((d) => d.body.notification_id === id);

  it("delivers to the webhook, signed, and retries a failed attempt with backoff", async () => {
    const { notification } = await send(free[0], "flaky");
    expect(notification!.status).toBe(NotificationStatus.SCHEDULED);
    const n = await settled(notification!.notificationId);
    expect(n.status).toBe(NotificationStatus.SENT);
    expect(n.attempts).toBe(2);
    expect(n.sentTime).toBeDefined();
    const hooks = hooksFor(n.notificationId);
    expect(hooks.map((h) => [h.verified, h.status])).toEqual([
      [true, 500],
      [true, 200],
    ]);
    // The same record over REST, as the contract's http rule has it.
    const rest = await fetch(`http://127.0.0.1:${mesh.ports.gateway}/notifications/${n.notificationId}`, { headers });
    expect(await rest.json()).toMatchObject({ notification: { status: "NOTIFICATION_STATUS_SENT", channel: "CHANNEL_PUSH", attempts: 2 } });
    expect(hooks[1].body).toMatchObject({
      user_id: free[0],
      channel: "push",
      notification_type: "message",
      data: { link: "app://inbox/1" },
    });
  });

  it("dead-letters a notification after its last failed attempt", async () => {
    const { notification } = await send(free[1], "broken");
    const n = await settled(notification!.notificationId);
    expect(n.status).toBe(NotificationStatus.DEAD_LETTERED);
    expect(n.attempts).toBe(3);
    expect(n.error).toMatch(/HTTP 500/);
    expect(hooksFor(n.notificationId)).toHaveLength(3);
    const attempts = (await mesh.metrics.registry.getSingleMetric("mlmesh_notification_attempts_total")?.get())?.values ?? [];
    expect(attempts.find((v) => v.labels.outcome === "dead_lettered" && v.labels.channel === "push")?.value).toBe(1);
  });

  it("sends email over SMTP, and records failed what has no adapter or no address", async () => {
    const { notification } = await send(free[2], "Your trip to Lisbon", { channel: Channel.EMAIL, emailAddress: "ana@travel.example" });
    const n = await settled(notification!.notificationId);
    expect(n.status).toBe(NotificationStatus.SENT);
    await expect.poll(() => smtp.output(), poll).toContain("Subject: Your trip to Lisbon");
    expect(smtp.output()).toMatch(/To: ana@travel\.example/);
    expect(smtp.output().toLowerCase()).toContain(`x-mlmesh-notification-id: ${n.notificationId}`);

    const noAddress = await settled((await send(free[2], "no address", { channel: Channel.EMAIL })).notification!.notificationId);
    expect(noAddress.status).toBe(NotificationStatus.FAILED);
    expect(noAddress.error).toMatch(/email_address/);
    const sms = await settled((await send(free[2], "by sms", { channel: Channel.SMS })).notification!.notificationId);
    expect(sms.status).toBe(NotificationStatus.FAILED);
    expect(sms.error).toMatch(/no adapter is configured for the sms channel/);
  });

  it("never sends a notification cancelled before its send time", async () => {
    const due = Date.now() + 1500;
    const { notification } = await send(free[3], "cancelled", { sendTime: timestampFromMs(due) });
    const id = notification!.notificationId;
    const cancelled = (await client().cancelNotification({ notificationId: id }, { headers })).notification!;
    expect(cancelled.status).toBe(NotificationStatus.CANCELLED);
    // One due just after it: once that one has arrived, the cancelled one's time has passed too.
    const later = await settled((await send(free[3], "after", { sendTime: timestampFromMs(due + 200) })).notification!.notificationId);
    expect(later.status).toBe(NotificationStatus.SENT);
    expect(hooksFor(id)).toHaveLength(0);
    const n = (await client().getNotification({ notificationId: id }, { headers })).notification!;
    expect([n.status, n.attempts, n.sentTime]).toEqual([NotificationStatus.CANCELLED, 0, undefined]);
    // Cancelling again answers the same; a sent one cannot be cancelled.
    expect((await client().cancelNotification({ notificationId: id }, { headers })).notification!.status).toBe(
      NotificationStatus.CANCELLED,
    );
    const err = await client()
      .cancelNotification({ notificationId: later.notificationId }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("sends nothing inside quiet hours: urgent ones when they end, given send times moved there", async () => {
    const end = (Math.floor(Date.now() / (24 * H)) * 24 + quiet.end) * H;
    const quietEnd = end > Date.now() ? end : end + 24 * H;
    const urgent = (await send(quiet.id, "urgent", { urgency: Urgency.HIGH, sendTime: undefined })).notification!;
    const given = (await send(quiet.id, "given")).notification!;
    const normal = (await send(quiet.id, "normal", { sendTime: undefined })).notification!;
    expect(timestampMs(urgent.sendTime!)).toBe(quietEnd);
    expect(timestampMs(given.sendTime!)).toBe(quietEnd);
    expect(given.reason).toMatch(/moved to the end of the traveller's quiet hours/);
    const q = { quietStartHour: quiet.start, quietEndHour: quiet.end };
    expect(isQuiet(hourOfWeek(timestampMs(normal.sendTime!), "UTC") % 24, q)).toBe(false);
    for (const n of [urgent, given, normal]) {
      expect(n.status).toBe(NotificationStatus.SCHEDULED);
      await client().cancelNotification({ notificationId: n.notificationId }, { headers });
    }
  });

  it("records opens and clicks as activity, once each, and the timing model learns from them", async () => {
    const user = free[4];
    const ask = () =>
      timing().optimizeNotificationTiming({ userId: user, notificationType: NotificationType.REMINDER, urgency: Urgency.LOW }, { headers });
    expect((await ask()).channel).toBe(Channel.PUSH); // no history: every channel as likely, push first
    const { notification } = await send(user, "Pack your bags", {
      notificationType: NotificationType.REMINDER,
      channel: Channel.EMAIL,
      emailAddress: "ben@travel.example",
    });
    const id = notification!.notificationId;
    expect((await settled(id)).status).toBe(NotificationStatus.SENT);
    const engage = (kind: EngagementKind) => client().recordNotificationEngagement({ notificationId: id, kind }, { headers });
    expect((await engage(EngagementKind.OPEN)).notification!.openTime).toBeDefined();
    await engage(EngagementKind.OPEN); // reported twice: counted once
    expect((await engage(EngagementKind.CLICK)).notification!.clickTime).toBeDefined();
    const rows = await db.sql`select kind, channel, notification_type from activity_events where user_id = ${user} order by kind`;
    expect(rows.map((r) => [r.kind, r.channel, r.notification_type])).toEqual([
      ["notification_click", "email", "reminder"],
      ["notification_open", "email", "reminder"],
    ]);
    // The traveller opens reminders by email now: the model says so once PostgreSQL announces the new rows.
    await expect.poll(async () => (await ask()).channel, poll).toBe(Channel.EMAIL);

    const cancelled = (await send(user, "never sent", { sendTime: timestampFromMs(Date.now() + 60_000) })).notification!;
    await client().cancelNotification({ notificationId: cancelled.notificationId }, { headers });
    const err = await client()
      .recordNotificationEngagement({ notificationId: cancelled.notificationId, kind: EngagementKind.OPEN }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("answers an unknown traveller or notification NOT_FOUND and a bad request INVALID_ARGUMENT", async () => {
    const missing = "00000000-0000-4000-8000-00000000beef";
    for (const call of [
      () => send(missing, "to nobody"),
      () => client().getNotification({ notificationId: missing }, { headers }),
      () => client().cancelNotification({ notificationId: missing }, { headers }),
    ]) {
      const err = await call().catch((e) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.NotFound);
    }
    const bad = await send(free[5], "").catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    expect((bad as ConnectError).message).toMatch(/payload\.title/);
    const noPayload = await send(free[5], "x", { payload: undefined }).catch((e) => ConnectError.from(e));
    expect((noPayload as ConnectError).message).toMatch(/payload: value is required \[required\]/);
    const badAddress = await send(free[5], "x", { channel: Channel.EMAIL, emailAddress: "not an address" }).catch((e) =>
      ConnectError.from(e),
    );
    expect((badAddress as ConnectError).message).toMatch(/email_address: .* \[string\.email\]/);
  });

  it("lets an app's key (infer) report engagement, and only a jobs key send, look or cancel", async () => {
    const app = { authorization: `Bearer ${APP_KEY}` };
    const denied = await client()
      .sendNotification(
        { userId: free[6], notificationType: NotificationType.MESSAGE, urgency: Urgency.LOW, payload: { title: "x" } },
        { headers: app },
      )
      .catch((e) => ConnectError.from(e));
    expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
    expect((denied as ConnectError).rawMessage).toMatch(/lacks the scope 'jobs'/);
    const missing = "00000000-0000-4000-8000-00000000beef";
    const engaged = await client()
      .recordNotificationEngagement({ notificationId: missing, kind: EngagementKind.OPEN }, { headers: app })
      .catch((e) => ConnectError.from(e));
    expect((engaged as ConnectError).code).toBe(Code.NotFound);
  });
});
