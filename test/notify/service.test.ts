import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Channel,
  NotificationTimingService,
  NotificationType,
  Urgency,
} from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { isQuiet } from "../../services/notify/model/decide.js";
import { hourOfWeek } from "../../services/notify/model/local-time.js";
import { seedActivity } from "../../services/notify/seed.js";
import { notifyArea } from "../../services/notify/service.js";
import { recordActivity } from "../../services/notify/state-store.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };

describe("NotificationTimingService", () => {
  let url: string;
  let db: Database;
  let mesh: Mesh;
  let active: { user_id: string; timezone: string; quiet_start_hour: number; quiet_end_hour: number }[];
  let newcomer: string;

  beforeAll(async () => {
    url = (await testScope()).databaseUrl; // and this file's Redis prefix, which startTestMesh uses
    db = await openDatabase({ url, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 400, seed: 4 });
    await seedActivity(db, { users: 300, seed: 4 });
    active =
      await db.sql`select user_id::text, timezone, quiet_start_hour, quiet_end_hour from user_notification_prefs order by user_id limit 20`;
    // Travellers beyond the first 300 have no activity and no preferences: cold start.
    [{ id: newcomer }] = await db.sql<
      { id: string }[]
    >`select id::text from travellers where id not in (select user_id from user_notification_prefs) limit 1`;
    ({ mesh } = await startTestMesh([notifyArea], { DATABASE_URL: url }));
  }, 60_000);
  afterAll(async () => {
    await mesh?.shutdown();
    await db?.close();
  });

  const client = () => createClient(NotificationTimingService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));

  it("answers with a slot outside quiet hours, a channel, a confidence and a reason from the data", async () => {
    for (const u of active) {
      const res = await client().optimizeNotificationTiming(
        { userId: u.user_id, notificationType: NotificationType.MESSAGE, urgency: Urgency.MEDIUM },
        { headers },
      );
      const at = timestampMs(res.sendAt!);
      expect(at - Date.now()).toBeLessThanOrEqual(12 * 3_600_000 + 1000);
      expect(isQuiet(hourOfWeek(at, u.timezone) % 24, { quietStartHour: u.quiet_start_hour, quietEndHour: u.quiet_end_hour })).toBe(false);
      expect(res.channel).not.toBe(Channel.UNSPECIFIED);
      expect(res.reason).toMatch(/^User most active \d{1,2}(am|pm)?-\d{1,2}(am|pm) on (weekdays|weekends)$/);
      expect(res.coldStart).toBe(false);
    }
  });

  it("gives a traveller without history the population's habits, and an unknown id NOT_FOUND", async () => {
    const res = await client().optimizeNotificationTiming(
      { userId: newcomer, notificationType: NotificationType.MATCH_FOUND, urgency: Urgency.LOW },
      { headers },
    );
    expect(res.coldStart).toBe(true);
    expect(res.reason).toMatch(/^New user: travellers are most active/);
    const err = await client()
      .optimizeNotificationTiming(
        { userId: "00000000-0000-4000-8000-00000000beef", notificationType: NotificationType.MESSAGE, urgency: Urgency.LOW },
        { headers },
      )
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    const bad = await client()
      .optimizeNotificationTiming({ userId: newcomer, notificationType: NotificationType.UNSPECIFIED, urgency: Urgency.LOW }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("counts a new event at once, whoever writes it: PostgreSQL's announcement drops the cached state", async () => {
    const ask = () =>
      client().optimizeNotificationTiming(
        { userId: newcomer, notificationType: NotificationType.REMINDER, urgency: Urgency.LOW },
        { headers },
      );
    expect((await ask()).coldStart).toBe(true); // now cached
    for (let d = 1; d <= 12; d++) {
      await recordActivity(db.sql, newcomer, {
        kind: "notification_open",
        channel: "sms",
        notificationType: "reminder",
        at: Date.now() - d * 86_400_000,
      });
    }
    // The server's in-process copy goes when the announcement arrives, milliseconds later. The wait is generous for a
    // busy machine and still proves the announcement: unannounced, the state would be kept a minute here, an hour in Redis.
    await expect.poll(async () => (await ask()).coldStart, { timeout: 30_000, interval: 20 }).toBe(false);
    expect((await ask()).channel).toBe(Channel.SMS);
  });

  it("still answers with Redis unreachable", async () => {
    const { mesh: offline } = await startTestMesh([notifyArea], { DATABASE_URL: url, REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const c = createClient(NotificationTimingService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${offline.ports.grpc}` }));
      const res = await c.optimizeNotificationTiming(
        { userId: active[0].user_id, notificationType: NotificationType.MESSAGE, urgency: Urgency.HIGH },
        { headers },
      );
      expect(res.reason).not.toBe("");
      const bypass = await offline.metrics.cacheBypasses.get();
      expect(bypass.values.find((v) => v.labels.cache === "notify_state")?.value).toBeGreaterThan(0);
    } finally {
      await offline.shutdown();
    }
  });
});
