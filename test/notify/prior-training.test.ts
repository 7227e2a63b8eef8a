import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueueService, JobStatus, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { NotificationTimingService, NotificationType, Urgency } from "../../gen/mlmesh/notify/v1/notification_timing_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { seedActivity } from "../../services/notify/seed.js";
import { notifyArea } from "../../services/notify/service.js";
import { ModelRegistry } from "../../services/registry/index.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { jobEnded, startMeshWithWorker, type MeshWithWorker } from "../support/job-mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
process.env.MLMESH_QUEUE_PREFIX = `test-notify-prior-${process.pid}`;

let started: MeshWithWorker;
let mesh: Mesh;
let transport: MeshWithWorker["transport"];
let userId: string;

beforeAll(async () => {
  const scope = await testScope();
  const seeding = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(seeding.sql);
  await seedTravellers(seeding, { count: 200, seed: 8 });
  await seedActivity(seeding, { users: 150, seed: 8 });
  [{ user_id: userId }] = await seeding.sql<{ user_id: string }[]>`select user_id::text from user_notification_prefs limit 1`;
  await seeding.close();
  started = await startMeshWithWorker([notifyArea], scope.env);
  ({ mesh, transport } = started);
}, 60_000);

afterAll(async () => {
  await started?.shutdown();
});

const finished = (jobId: string) => jobEnded(transport, jobId, 60_000);

const timing = () =>
  createClient(NotificationTimingService, transport).optimizeNotificationTiming(
    { userId, notificationType: NotificationType.MESSAGE, urgency: Urgency.MEDIUM },
    { headers },
  );

describe("notify training", () => {
  it("stores the population's prior in the registry with its evaluation and parameters, and serving reads the promoted one", async () => {
    expect((await timing()).modelVersion).toBe("notify-hour-of-week-v1");
    const jobs = createClient(JobQueueService, transport);
    const submitted = (
      await jobs.submitTrainingJob({ model: ModelKind.NOTIFY, parameters: { sample_travellers: 120, holdout_percent: 25 } }, { headers })
    ).job!;
    const job = await finished(submitted.jobId);
    expect(job.status, job.error).toBe(JobStatus.COMPLETED);
    expect(job.result).toMatchObject({ model: "notify", promoted: true });
    const version = job.result!.version as number;

    const stored = await new ModelRegistry(mesh.db.sql).serving("notify");
    expect(stored?.version).toBe(version);
    expect(stored?.metadata.parameters).toEqual({ sample_travellers: 120, holdout_percent: 25 });
    expect(stored?.dataSummary.travellers).toBe(120);
    const metrics = stored!.metrics as { heldOutLogLikelihood: number; uniformLogLikelihood: number; heldOutEvents: number };
    expect(metrics.heldOutEvents).toBeGreaterThan(0);
    // The seeded travellers keep daily routines: their hours are far from uniform.
    expect(metrics.heldOutLogLikelihood).toBeGreaterThan(metrics.uniformLogLikelihood);

    // The promotion is announced; the server swaps to the stored prior.
    let served = "";
    for (let i = 0; i < 200 && !served.endsWith(`+prior.${version}`); i++) {
      served = (await timing()).modelVersion;
      if (!served.endsWith(`+prior.${version}`)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(served).toBe(`notify-hour-of-week-v1+prior.${version}`);

    // A second training on the same data does not beat the serving version's held-out score by the margin: the compare-and-set keeps it.
    const again = await finished(
      (await jobs.submitTrainingJob({ model: ModelKind.NOTIFY, parameters: { sample_travellers: 120, holdout_percent: 25 } }, { headers }))
        .job!.jobId,
    );
    expect(again.status, again.error).toBe(JobStatus.COMPLETED);
    expect(again.result).toMatchObject({ promoted: false });
    expect((await new ModelRegistry(mesh.db.sql).serving("notify"))?.version).toBe(version);
  }, 90_000);

  it("refuses a bad parameter, naming it", async () => {
    const err = await createClient(JobQueueService, transport)
      .submitTrainingJob({ model: ModelKind.NOTIFY, parameters: { holdout_percent: 90 } }, { headers })
      .then(() => undefined, ConnectError.from);
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe("parameters.holdout_percent: must be an integer from 5 to 50");
  });
});
