import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Queue } from "bullmq";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import postgres from "postgres";
import { NotificationDeliveryService } from "../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { Channel, NotificationType, Urgency } from "../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { seedTravellers } from "../services/match/seed.js";
import { DELIVERY_QUEUE } from "../services/notify/delivery/deliverer.js";
import { notificationDeliveryArea } from "../services/notify/service.js";
import { startMesh } from "../services/runtime/mesh.js";
import { BENCH_API_KEY, benchConfig } from "./bench-config.js";
import { describeMachine } from "./machine.js";
import { percentile } from "./percentile.js";

/**
 * Notification delivery lateness: COUNT notifications submitted over gRPC
 * with send times spread over a few seconds, delivered through the webhook
 * adapter to a receiver on loopback; lateness is each one's arrival at the
 * receiver minus its send_at. The figure is the delayed queue's and the
 * worker's (BullMQ's delayed set, the PostgreSQL attempt and outcome, the
 * signed POST), not the timing model's choice of time.
 */
const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 1000);
// Every submit ends before the first send_at (checked: the section counts any answered after it).
const LEAD_MS = 10_000 + COUNT * 20;
const SPREAD_MS = 5_000;
const CONCURRENCY = 32;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `bench-notify-${process.pid}`;

const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => undefined });
await admin.unsafe("drop database if exists mlmesh_bench_notify with (force)");
await admin.unsafe("create database mlmesh_bench_notify");
await admin.end();
const databaseUrl = "postgres://postgres@127.0.0.1:5432/mlmesh_bench_notify";

const arrivals: { sendAt: number; at: number }[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const at = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { send_at: string };
    arrivals.push({ sendAt: Date.parse(body.send_at), at });
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
Object.assign(process.env, {
  MLMESH_QUEUE_PREFIX: prefix,
  MLMESH_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
  MLMESH_NOTIFY_WEBHOOK_SECRET: "bench-webhook-secret-0123",
});

const config = benchConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LOG_LEVEL: "error" });
const mesh = await startMesh(config, { areas: [notificationDeliveryArea] });
try {
  await seedTravellers(mesh.db, { count: 200, seed: 7 });
  const users = (await mesh.db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
  // No quiet hours, so every send_at stands as given.
  await mesh.db
    .sql`insert into user_notification_prefs ${mesh.db.sql(users.map((id) => ({ user_id: id, timezone: "UTC", quiet_start_hour: 0, quiet_end_hour: 0 })))}`;
  const client = createClient(NotificationDeliveryService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  const headers = { authorization: `Bearer ${BENCH_API_KEY}` };
  const first = Date.now() + LEAD_MS;
  let next = 0;
  let submittedLate = 0;
  const submitStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COUNT) {
        const i = next++;
        const sendAt = first + Math.floor((i / COUNT) * SPREAD_MS);
        await client.sendNotification(
          {
            userId: users[i % users.length],
            notificationType: NotificationType.MESSAGE,
            urgency: Urgency.MEDIUM,
            channel: Channel.PUSH,
            sendTime: timestampFromMs(sendAt),
            payload: { title: `bench ${i}`, body: "lateness" },
          },
          { headers },
        );
        if (Date.now() > sendAt) submittedLate++;
      }
    }),
  );
  const submitSeconds = (performance.now() - submitStart) / 1000;
  const deadline = first + SPREAD_MS + 60_000;
  while (arrivals.length < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const lateness = arrivals.map((a) => a.at - a.sendAt).sort((a, b) => a - b);
  const md = `## Notification delivery lateness

Written by \`node dist/bench/notify-delivery.js\` (part of \`make bench\`) on ${new Date().toISOString().slice(0, 10)}; ${describeMachine()}.
${COUNT} notifications submitted over gRPC (SendNotification, ${CONCURRENCY} in flight, ${(COUNT / submitSeconds).toFixed(0)}/s, ${submittedLate}
answered after their own send time) with explicit send times spread evenly over ${SPREAD_MS / 1000} s starting ${LEAD_MS / 1000} s
ahead, delivered by the mesh's own delivery worker (BullMQ delayed queue, a PostgreSQL attempt and outcome per
notification, the signed webhook POST) to an HTTP receiver on loopback. Lateness is each one's arrival at the
receiver minus its send_at; the mesh, PostgreSQL, Redis and the receiver share the machine.

| measure | value |
|---|---|
| delivered | ${arrivals.length} of ${COUNT} |
| lateness p50 ms | ${percentile(lateness, 0.5).toFixed(0)} |
| lateness p99 ms | ${percentile(lateness, 0.99).toFixed(0)} |
| lateness max ms | ${(lateness[lateness.length - 1] ?? Number.NaN).toFixed(0)} |
| early (arrived before send_at) | ${lateness.filter((l) => l < 0).length} |
`;
  process.stdout.write(md);
  if (markdown) writeFileSync(markdown, md);
} finally {
  await mesh.shutdown();
  receiver.close();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const q = new Queue(DELIVERY_QUEUE, { connection: redis, prefix });
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
  redis.disconnect();
}
// Workers' blocking connections can outlive their close by a poll interval; the figures are written.
process.exit(0);
