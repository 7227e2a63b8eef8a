import {
  create,
  fromJson,
  toJson,
  type DescMethod,
  type DescService,
  type JsonObject,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import { type Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { InferenceTask, JobQueueService, JobStatus, ModelKind, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import {
  EngagementKind,
  NotificationDeliveryService,
  NotificationStatus,
  type Notification,
} from "../../gen/mlmesh/notify/v1/notification_delivery_service_pb.js";
import { Channel, NotificationType, Urgency } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { areas } from "../../services/areas.js";
import { contracts } from "../../services/contracts.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { startJobWorker } from "../../services/jobs/worker-process.js";
import { seedTravellers } from "../../services/match/seed.js";
import { seedActivity } from "../../services/notify/seed.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { contractRoutes, type ContractRoute } from "../support/contract-routes.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { startWebhookReceiver } from "../support/webhook-receiver.js";
import { testScope } from "../support/scope.js";

/**
 * Every method of every service in the contract, called for real through each
 * transport: Connect with JSON (HTTP/1.1) and binary (HTTP/2), gRPC, and every
 * google.api.http route of it through the REST gateway, against the whole mesh
 * (every area, a real job queue on Redis and PostgreSQL). The methods come from
 * the generated descriptors: a new RPC without a line in `cases` fails here.
 */

const headers = { authorization: `Bearer ${TEST_KEY}` };

/** What the cases may use: seeded ids, and jobs in known states. */
interface State {
  travellers: string[];
  /** A traveller with destination history (RecommendDestinations answers from the model, not cold). */
  browser: string;
  completed: Job;
  /** A dead-lettered job nobody retries. */
  deadLettered: Job;
  /** Dead-lettered jobs, one taken by each RetryJob call. */
  failed: Job[];
  /** A new job, queued (no worker runs in the calls' phase). */
  pending(): Promise<Job>;
  /** The name of a new hourly schedule (the worker is stopped: its ticks stay queued). */
  schedule(): Promise<string>;
  /** A new notification, scheduled for tomorrow. */
  scheduled(): Promise<Notification>;
  /** A new notification, delivered to the test's webhook receiver. */
  sent(): Promise<Notification>;
}

interface Case {
  /** The request, built afresh for each call (it may create the state it needs). */
  request(s: State): unknown | Promise<unknown>;
  /** Checks the answer: the response, or every message of a stream. */
  check(answer: never, s: State): void;
  /** For a stream that does not end by itself: how many messages to read. */
  take?: number;
}

const trainMatch = { case: "trainingModel", value: ModelKind.MATCH } as const;

const sales = Array.from({ length: 120 }, (_, i) => ({
  date: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
  quantity: 10 + (i % 7) + (i % 3),
}));

/** One line per method, keyed "Service/Method" (the service's short name). */
const cases: Record<string, Case> = {
  "MatchScoringService/ScoreMatch": {
    request: (s) => ({ userAId: s.travellers[0], userBId: s.travellers[1] }),
    check: (r: { score: number; modelVersion: string }) => expect(r.score > 0 && r.score < 1 && r.modelVersion !== "").toBe(true),
  },
  "MatchScoringService/ScoreCandidates": {
    request: (s) => ({ userId: s.travellers[0], candidateIds: s.travellers.slice(1, 6), limit: 3 }),
    check: (r: { candidates: unknown[] }) => expect(r.candidates).toHaveLength(3),
  },
  "MatchScoringService/SearchMatches": {
    request: (s) => ({ userId: s.travellers[0], maxDistanceKm: 500, limit: 5 }),
    check: (r: { matches: { userId: string }[] }, s) => {
      expect(r.matches.length).toBeGreaterThan(0);
      expect(r.matches.map((m) => m.userId)).not.toContain(s.travellers[0]);
    },
  },
  "RecommendationService/RecommendDestinations": {
    request: (s) => ({ userId: s.browser }),
    check: (r: { recommendations: unknown[]; coldStart: boolean }) => expect([r.recommendations.length, r.coldStart]).toEqual([10, false]),
  },
  "NotificationTimingService/OptimizeNotificationTiming": {
    request: (s) => ({ userId: s.travellers[0], notificationType: NotificationType.MATCH_FOUND, urgency: Urgency.LOW }),
    check: (r: { sendAt?: { seconds: bigint } }) => expect(r.sendAt?.seconds).toBeGreaterThan(0n),
  },
  "NotificationDeliveryService/SendNotification": {
    request: (s) => ({
      userId: s.travellers[0],
      notificationType: NotificationType.MATCH_FOUND,
      urgency: Urgency.LOW,
      payload: { title: "A new match", body: "Someone is going your way" },
      sendTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 86_400) },
    }),
    check: (r: { notification: Notification }) => expect(r.notification.status).toBe(NotificationStatus.SCHEDULED),
  },
  "NotificationDeliveryService/GetNotification": {
    request: async (s) => ({ notificationId: (await s.scheduled()).notificationId }),
    check: (r: { notification: Notification }) => expect(r.notification.status).toBe(NotificationStatus.SCHEDULED),
  },
  "NotificationDeliveryService/CancelNotification": {
    request: async (s) => ({ notificationId: (await s.scheduled()).notificationId }),
    check: (r: { notification: Notification }) => expect(r.notification.status).toBe(NotificationStatus.CANCELLED),
  },
  "NotificationDeliveryService/RecordNotificationEngagement": {
    request: async (s) => ({ notificationId: (await s.sent()).notificationId, kind: EngagementKind.OPEN }),
    check: (r: { notification: Notification }) => expect(r.notification.openTime).toBeDefined(),
  },
  "MatchScoringService/GetPrecomputedMatches": {
    request: (s) => ({ userId: s.travellers[0] }),
    check: (r: { matches: { userId: string }[] }, s) => {
      expect(r.matches.length).toBeGreaterThan(0);
      expect(r.matches.map((m) => m.userId)).not.toContain(s.travellers[0]);
    },
  },
  "JobQueueService/CreateSchedule": {
    request: () => ({
      schedule: {
        name: `created-${Math.random().toString(36).slice(2, 10)}`,
        job: trainMatch,
        timing: { case: "intervalSeconds", value: 3600 },
      },
    }),
    check: (r: { schedule: { intervalSeconds?: number; timing: { value: unknown } } }) => expect(r.schedule.timing.value).toBe(3600),
  },
  "JobQueueService/ListSchedules": {
    request: async (s) => {
      await s.schedule();
      return {};
    },
    check: (r: { schedules: unknown[] }) => expect(r.schedules.length).toBeGreaterThan(0),
  },
  "JobQueueService/DeleteSchedule": {
    request: async (s) => ({ name: await s.schedule() }),
    check: (r: object) => expect(r).toBeDefined(),
  },
  "StatusService/GetStatus": {
    request: () => ({}),
    check: (r: { status: string; databaseConnected: boolean; redisConnected: boolean }) =>
      expect([r.status, r.databaseConnected, r.redisConnected]).toEqual(["healthy", true, true]),
  },
  "ForecastService/ForecastDemand": {
    request: () => ({ productId: "sku-1", horizonDays: 7, transactionData: sales }),
    check: (r: { predictions: unknown[] }) => expect(r.predictions).toHaveLength(7),
  },
  "ForecastService/PredictStockout": {
    request: () => ({ productId: "sku-1", currentStockUnits: 300, horizonDays: 90, transactionData: sales }),
    check: (r: { daysUntilStockout: number }) => expect(r.daysUntilStockout).toBeGreaterThan(0),
  },
  "ForecastService/ComputeReorderPoint": {
    request: () => ({ productId: "sku-1", leadTimeDays: 7, serviceLevel: 0.95, transactionData: sales }),
    check: (r: { reorderPointUnits: number }) => expect(r.reorderPointUnits).toBeGreaterThan(0),
  },
  "JobQueueService/SubmitTrainingJob": {
    request: () => ({ model: ModelKind.MATCH }),
    check: (r: { job: Job }) => expect(r.job.status).toBe(JobStatus.PENDING),
  },
  "JobQueueService/SubmitInferenceJob": {
    request: () => ({ task: InferenceTask.FORECAST_ALL_PRODUCTS, parameters: { horizon_days: 7 } }),
    check: (r: { job: Job }) => expect(r.job.status).toBe(JobStatus.PENDING),
  },
  "JobQueueService/GetJob": {
    request: (s) => ({ jobId: s.completed.jobId }),
    check: (r: { job: Job }, s) => expect([r.job.jobId, r.job.status]).toEqual([s.completed.jobId, JobStatus.COMPLETED]),
  },
  "JobQueueService/ListJobs": {
    request: () => ({ status: JobStatus.COMPLETED }),
    check: (r: { jobs: Job[] }, s) => {
      // The forecast job, and the score_candidates job that filled the precomputed feed.
      expect(r.jobs.map((j) => j.jobId)).toContain(s.completed.jobId);
      expect(r.jobs.map((j) => j.status)).toEqual([JobStatus.COMPLETED, JobStatus.COMPLETED]);
    },
  },
  "JobQueueService/CancelJob": {
    request: async (s) => ({ jobId: (await s.pending()).jobId }),
    check: (r: { job: Job }) => expect(r.job.status).toBe(JobStatus.CANCELLED),
  },
  "JobQueueService/WatchJob": {
    request: (s) => ({ jobId: s.completed.jobId }),
    // An ended job: its state once, then the stream closes.
    check: (r: { job: Job }[]) => expect(r.map((m) => m.job.status)).toEqual([JobStatus.COMPLETED]),
  },
  "JobQueueService/ListDeadLetterJobs": {
    request: () => ({}),
    check: (r: { jobs: Job[] }, s) => expect(r.jobs.map((j) => j.jobId)).toContain(s.deadLettered.jobId),
  },
  "JobQueueService/RetryJob": {
    request: (s) => ({ jobId: s.failed.shift()!.jobId }),
    check: (r: { job: Job }) => expect([r.job.status, r.job.deadLettered]).toEqual([JobStatus.PENDING, false]),
  },
  "Health/Check": {
    request: () => ({ service: "" }),
    check: (r: { status: number }) => expect(r.status).toBe(HealthCheckResponse_ServingStatus.SERVING),
  },
  "Health/Watch": {
    request: () => ({ service: "mlmesh.jobs.v1.JobQueueService" }),
    take: 1,
    check: (r: { status: number }[]) => expect(r.map((m) => m.status)).toEqual([HealthCheckResponse_ServingStatus.SERVING]),
  },
  "Health/List": {
    request: () => ({}),
    check: (r: { statuses: Record<string, unknown> }) =>
      expect(Object.keys(r.statuses)).toEqual(expect.arrayContaining(contracts.filter((c) => c !== Health).map((c) => c.typeName))),
  },
};

/** Calls `method` with `request` through a Connect or gRPC transport: the response, or every message of a stream. */
async function rpc(transport: Transport, service: DescService, method: DescMethod, request: unknown, take?: number): Promise<unknown> {
  const client = createClient(service, transport) as unknown as Record<string, (req: unknown, opts: object) => unknown>;
  const call = client[method.localName];
  if (method.methodKind === "unary") return call(request, { headers, timeoutMs: 30_000 });
  const messages: unknown[] = [];
  for await (const m of call(request, { headers, timeoutMs: 30_000 }) as AsyncIterable<unknown>) {
    messages.push(m);
    if (messages.length === take) break;
  }
  return messages;
}

/** Calls `method` through one REST route, the request spelt as Envoy's transcoder reads it; a non-200 answer throws its status. */
async function rest(base: string, route: ContractRoute, method: DescMethod, request: unknown): Promise<unknown> {
  const json = toJson(method.input, create(method.input, request as never), { useProtoFieldName: true }) as JsonObject;
  const path = route.template.replace(/\{([^}=]+)(?:=[^}]*)?\}/g, (_, field: string) => {
    const value = json[field];
    delete json[field];
    return encodeURIComponent(String(value));
  });
  const url = new URL(path, base);
  let body: string | undefined;
  if (route.body === "*") body = JSON.stringify(json);
  else {
    // A named body field is the HTTP body; the other fields go in the query, as with no body.
    if (route.body) {
      body = JSON.stringify(json[route.body] ?? {});
      delete json[route.body];
    }
    for (const [k, v] of Object.entries(json)) {
      if (typeof v === "object" && v !== null && !Array.isArray(v)) throw new Error(`${route.template}: nested query field ${k}`);
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
  }
  const res = await fetch(url, { method: route.verb, headers: { ...headers, "content-type": "application/json" }, body });
  const answer = (await res.json()) as JsonValue;
  if (res.status !== 200) {
    const status = answer as { code: number; message: string };
    throw new ConnectError(`HTTP ${res.status}: ${status.message}`, status.code as Code);
  }
  // A rule's response_body prints that field alone.
  const parse = (j: JsonValue): Message => fromJson(method.output, route.responseBody ? { [route.responseBody]: j } : j);
  return method.methodKind === "unary" ? parse(answer) : (answer as JsonValue[]).map(parse);
}

let mesh: Mesh;
let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let state: State;
let transports: Record<string, Transport>;

beforeAll(async () => {
  const scope = await testScope();
  const db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(db.sql);
  await seedTravellers(db, { count: 600, seed: 16 });
  await seedDestinations(db, { destinations: 300, users: 300, seed: 16 });
  await seedActivity(db, { users: 300, seed: 16 });
  // Neighbours in the most populous city, so SearchMatches finds some.
  const travellers = (
    await db.sql<{ id: string }[]>`
      select id::text from travellers
      where city = (select city from travellers group by city order by count(*) desc, city limit 1)
      order by id limit 6`
  ).map((r) => r.id);
  const [{ browser }] = await db.sql<{ browser: string }[]>`
    select user_id::text as browser from destination_interactions where kind = 'booked' order by user_id limit 1`;
  // The notifications the cases send go to travellers[0], who keeps no quiet hours, so one due now goes now.
  await db.sql`
    insert into user_notification_prefs (user_id, timezone, quiet_start_hour, quiet_end_hour)
    values (${travellers[0]}, 'UTC', 0, 0)
    on conflict (user_id) do update set timezone = 'UTC', quiet_start_hour = 0, quiet_end_hour = 0`;
  await db.close();

  // Notifications are delivered to a webhook receiver of this file's (the delivery area reads its settings at start).
  const secret = "every-route-webhook-secret";
  webhook = await startWebhookReceiver(secret);
  Object.assign(process.env, { MLMESH_NOTIFY_WEBHOOK_URL: webhook.url, MLMESH_NOTIFY_WEBHOOK_SECRET: secret });
  let config: Awaited<ReturnType<typeof startTestMesh>>["config"];
  ({ mesh, config } = await startTestMesh(areas, scope.env));
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` });
  const health = createClient(Health, grpc);
  // The recommendation area fits its first model after the mesh listens.
  const until = Date.now() + 60_000;
  while ((await health.check({ service: "" })).status !== HealthCheckResponse_ServingStatus.SERVING) {
    if (Date.now() > until) throw new Error("the mesh did not become ready within a minute");
    await new Promise((r) => setTimeout(r, 100));
  }

  transports = {
    "Connect JSON": createConnectTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.connect}`, httpVersion: "1.1" }),
    "Connect binary": createConnectTransport({
      baseUrl: `http://127.0.0.1:${mesh.ports.connect}`,
      httpVersion: "2",
      useBinaryFormat: true,
    }),
    gRPC: grpc,
  };

  // Jobs in known states, from a worker inside this process built without the recommendation training job (as an
  // older deployment's worker would be): the forecast job completes; a job no worker can run is dead-lettered at its
  // first attempt. The worker stops before the calls, so the jobs they submit stay queued.
  const jobs = createClient(JobQueueService, grpc);
  const ended = async (job: Job) => {
    let last = job;
    for await (const { job: seen } of jobs.watchJob({ jobId: job.jobId }, { headers, timeoutMs: 60_000 })) last = seen!;
    return last;
  };
  const worker = await startJobWorker({
    config,
    jobs: loadJobsConfig(process.env, config.redisPrefix),
    db: mesh.db,
    handlers: new Map([...jobHandlers].filter(([, h]) => !(h.jobType === "training" && h.kind === "recommend"))),
    metrics: mesh.metrics,
    openAdmin: false,
  });
  const submitted = await jobs.submitInferenceJob(
    { task: InferenceTask.FORECAST_ALL_PRODUCTS, parameters: { product_ids: ["sku-none"], horizon_days: 7 } },
    { headers },
  );
  const completed = await ended(submitted.job!);
  // The precomputed feed GetPrecomputedMatches reads, for travellers[0].
  const precomputed = await ended(
    (await jobs.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters: { user_ids: [travellers[0]] } }, { headers })).job!,
  );
  expect(precomputed.status).toBe(JobStatus.COMPLETED);
  // One for ListDeadLetterJobs to find, and one for each RetryJob call.
  const retries =
    1 + Object.keys(transports).length + contractRoutes([JobQueueService]).filter((r) => r.method.endsWith("/RetryJob")).length;
  const failed = await Promise.all(
    Array.from({ length: retries }, async () => ended((await jobs.submitTrainingJob({ model: ModelKind.RECOMMEND }, { headers })).job!)),
  );
  await worker.shutdown();
  expect(completed.status).toBe(JobStatus.COMPLETED);
  for (const f of failed) expect([f.status, f.deadLettered]).toEqual([JobStatus.FAILED, true]);

  let schedules = 0;
  const notifications = createClient(NotificationDeliveryService, grpc);
  const notify = async (inSeconds: number) =>
    (
      await notifications.sendNotification(
        {
          userId: travellers[0],
          notificationType: NotificationType.MATCH_FOUND,
          urgency: Urgency.HIGH,
          channel: Channel.PUSH,
          payload: { title: "A new match" },
          sendTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + inSeconds) },
        },
        { headers },
      )
    ).notification!;
  state = {
    travellers,
    browser,
    completed,
    deadLettered: failed[0],
    failed: failed.slice(1),
    pending: async () => (await jobs.submitTrainingJob({ model: ModelKind.MATCH }, { headers })).job!,
    schedule: async () => {
      const name = `route-${++schedules}`;
      await jobs.createSchedule({ schedule: { name, job: trainMatch, timing: { case: "intervalSeconds", value: 3600 } } }, { headers });
      return name;
    },
    scheduled: () => notify(86_400),
    sent: async () => {
      const { notificationId } = await notify(0);
      for (const until = Date.now() + 40_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        const { notification } = await notifications.getNotification({ notificationId }, { headers });
        if (notification!.status === NotificationStatus.SENT) return notification!;
      }
      throw new Error(`notification ${notificationId} was not sent within 40 s`);
    },
  };
}, 120_000);

afterAll(async () => {
  await mesh?.shutdown();
  await webhook?.close();
});

describe("every method of the contract, on every transport", () => {
  const methods = contracts.flatMap((service) => service.methods.map((method) => ({ service, method })));

  it("has a case for each method, and each case is a method", () => {
    const names = methods.map(({ service, method }) => `${service.name}/${method.name}`);
    expect(
      names.filter((n) => !(n in cases)),
      "methods without a case",
    ).toEqual([]);
    expect(
      Object.keys(cases).filter((n) => !names.includes(n)),
      "cases without a method",
    ).toEqual([]);
    expect(methods.some(({ method }) => method.methodKind === "server_streaming")).toBe(true);
  });

  for (const { service, method } of methods) {
    const name = `${service.name}/${method.name}`;
    it(name, async () => {
      const c = cases[name];
      expect(c, `no case for ${name}`).toBeDefined();
      for (const [label, transport] of Object.entries(transports)) {
        const answer = await rpc(transport, service, method, await c.request(state), c.take).catch((err) => {
          throw new Error(`${name} over ${label}: ${ConnectError.from(err).message}`);
        });
        c.check(answer as never, state);
      }
      for (const route of contractRoutes([service]).filter((r) => r.method === name)) {
        const base = `http://127.0.0.1:${mesh.ports.gateway}`;
        const answer = await rest(base, route, method, await c.request(state)).catch((err) => {
          throw new Error(`${name} over REST ${route.verb} ${route.template}: ${ConnectError.from(err).message}`);
        });
        c.check(answer as never, state);
      }
    });
  }
});
