import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { JobQueueService, JobStatus, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { seedSampleInventory } from "../../services/forecast/seed.js";
import { forecastArea } from "../../services/forecast/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { jobEnded, startMeshWithWorker, type MeshWithWorker } from "../support/job-mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
process.env.MLMESH_QUEUE_PREFIX = `test-forecast-choice-${process.pid}`;

let started: MeshWithWorker;
let mesh: Mesh;
let transport: MeshWithWorker["transport"];

beforeAll(async () => {
  const scope = await testScope();
  started = await startMeshWithWorker([forecastArea], scope.env, (mesh) =>
    seedSampleInventory(mesh.db, { products: 3, seed: 11, endDate: "2025-06-30" }),
  );
  ({ mesh, transport } = started);
}, 60_000);

afterAll(async () => {
  await started?.shutdown();
});

const finished = (jobId: string) => jobEnded(transport, jobId, 60_000);

const demand = (productId: string) =>
  createClient(ForecastService, transport).forecastDemand({ productId, horizonDays: 30, cacheBypass: true }, { headers });

describe("forecast training", () => {
  it("stores each product's chosen model, and the forecasts fit only that model while the history is unchanged", async () => {
    const products = (await mesh.db.sql<{ product_id: string }[]>`select distinct product_id from transactions order by 1`).map(
      (r) => r.product_id,
    );
    expect(products).toHaveLength(3);
    const before = await demand(products[0]);

    const job = await finished(
      (await createClient(JobQueueService, transport).submitTrainingJob({ model: ModelKind.FORECAST }, { headers })).job!.jobId,
    );
    expect(job.status, job.error).toBe(JobStatus.COMPLETED);
    expect(job.result).toMatchObject({ products: 3, trained: 3, skipped: 0 });

    const rows = await mesh.db.sql<
      { product_id: string; model: string; parameters: unknown; metrics: { mase: number }; candidates: unknown[] }[]
    >`
      select product_id, model, parameters, metrics, candidates from forecast_model_choices order by product_id`;
    expect(rows.map((r) => r.product_id)).toEqual(products);
    for (const r of rows) {
      expect(r.parameters).toEqual({ horizon_days: 30 });
      expect(r.metrics.mase).toBeGreaterThan(0);
      expect(r.candidates.length).toBeGreaterThan(3);
    }
    // The stored winner is the full selection's, and fitting it alone answers exactly what the full selection did.
    expect(rows[0].model).toBe(before.model);
    const after = await demand(products[0]);
    expect(after.model).toBe(before.model);
    expect(after.predictions).toEqual(before.predictions);

    // Serving reads the stored choice: one set by hand (same history) is what answers.
    const other = rows[1].model === "theta" ? "seasonal naive (7 days)" : "theta";
    await mesh.db.sql`update forecast_model_choices set model = ${other} where product_id = ${products[1]}`;
    expect((await demand(products[1])).model).toBe(other);
    // New history makes the choice stale: every candidate competes again.
    await mesh.db.sql`insert into transactions (product_id, date, quantity) values (${products[1]}, '2025-07-01', 5)`;
    expect((await demand(products[1])).model).not.toBe(other);
  }, 90_000);

  it("refuses a bad parameter, naming it", async () => {
    const err = await createClient(JobQueueService, transport)
      .submitTrainingJob({ model: ModelKind.FORECAST, parameters: { horizon_days: 0 } }, { headers })
      .then(() => undefined, ConnectError.from);
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe("parameters.horizon_days: must be an integer from 1 to 365");
  });
});
