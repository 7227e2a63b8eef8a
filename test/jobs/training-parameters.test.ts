import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueueService, JobStatus, ModelKind } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import { ModelRegistry } from "../../services/registry/index.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { jobEnded, startMeshWithWorker, type MeshWithWorker } from "../support/job-mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
process.env.MLMESH_QUEUE_PREFIX = `test-training-parameters-${process.pid}`;

let started: MeshWithWorker;
let mesh: Mesh;
let transport: MeshWithWorker["transport"];
const jobs = () => createClient(JobQueueService, transport);

beforeAll(async () => {
  const scope = await testScope();
  const seeding = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(seeding.sql);
  await seedTravellers(seeding, { count: 800, seed: 17 });
  await seedDestinations(seeding, { destinations: 150, users: 300, seed: 17 });
  await seeding.close();
  started = await startMeshWithWorker([], scope.env);
  ({ mesh, transport } = started);
}, 90_000);

afterAll(async () => {
  await started?.shutdown();
});

const finished = (jobId: string) => jobEnded(transport, jobId, 90_000);

async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(() => undefined, ConnectError.from);
  expect(err?.code).toBe(Code.InvalidArgument);
  return err!;
}

describe("typed training hyperparameters", () => {
  it("fit the recommendation model with the values given and are stored with its version", async () => {
    const submitted = (
      await jobs().submitTrainingJob(
        { model: ModelKind.RECOMMEND, hyperparameters: { case: "recommend", value: { factors: 6, regularisationLambda: 20 } } },
        { headers },
      )
    ).job!;
    expect(submitted.parameters).toEqual({ factors: 6, regularisation_lambda: 20 });
    const job = await finished(submitted.jobId);
    expect(job.status, job.error).toBe(JobStatus.COMPLETED);
    const version = await new ModelRegistry(mesh.db.sql).get("recommend", job.result!.version as number);
    expect(version?.metadata.parameters).toEqual({ factors: 6, regularisation_lambda: 20, confidence_alpha: 2, iterations: 8 });
    // The artefact is the one fitted with them: six factors per destination.
    expect(version?.metadata.dim).toBe(6);
  }, 120_000);

  it("fit the match model with the values given, and the Struct form still works", async () => {
    const typed = await finished(
      (
        await jobs().submitTrainingJob(
          { model: ModelKind.MATCH, hyperparameters: { case: "match", value: { l2: 0.5, iterations: 4 } } },
          { headers },
        )
      ).job!.jobId,
    );
    expect(typed.status, typed.error).toBe(JobStatus.COMPLETED);
    const a = await new ModelRegistry(mesh.db.sql).get("match", typed.result!.version as number);
    expect(a?.metadata.parameters).toEqual({ l2: 0.5, iterations: 4 });

    const byName = await finished(
      (await jobs().submitTrainingJob({ model: ModelKind.MATCH, parameters: { l2: 1000 } }, { headers })).job!.jobId,
    );
    expect(byName.status, byName.error).toBe(JobStatus.COMPLETED);
    const b = await new ModelRegistry(mesh.db.sql).get("match", byName.result!.version as number);
    expect(b?.metadata.parameters).toEqual({ l2: 1000, iterations: 12 });
    // A far stronger penalty shrinks the weights: the values reach the fit.
    const norm = (w: unknown) => Math.hypot(...(w as number[]));
    expect(norm(b?.metadata.weights)).toBeLessThan(norm(a?.metadata.weights));
  }, 120_000);

  it("refuse bad values, naming the field", async () => {
    const bounds = await refusal(
      jobs().submitTrainingJob({ model: ModelKind.RECOMMEND, hyperparameters: { case: "recommend", value: { factors: 0 } } }, { headers }),
    );
    expect(bounds.rawMessage).toMatch(/^recommend\.factors: .*1.*512/);
    const lambda = await refusal(
      jobs().submitTrainingJob(
        { model: ModelKind.RECOMMEND, hyperparameters: { case: "recommend", value: { regularisationLambda: 0 } } },
        { headers },
      ),
    );
    expect(lambda.rawMessage).toMatch(/^recommend\.regularisation_lambda: /);
    const other = await refusal(
      jobs().submitTrainingJob({ model: ModelKind.MATCH, hyperparameters: { case: "recommend", value: { factors: 8 } } }, { headers }),
    );
    expect(other.rawMessage).toBe("recommend: are for model 'recommend', but the job trains 'match'");
    const both = await refusal(
      jobs().submitTrainingJob(
        { model: ModelKind.MATCH, parameters: { l2: 1 }, hyperparameters: { case: "match", value: { l2: 2 } } },
        { headers },
      ),
    );
    expect(both.rawMessage).toBe("parameters: give either parameters or match, not both");
    const byName = await refusal(jobs().submitTrainingJob({ model: ModelKind.RECOMMEND, parameters: { factors: 1000 } }, { headers }));
    expect(byName.rawMessage).toBe("parameters.factors: must be an integer from 1 to 512");
    const unknown = await refusal(jobs().submitTrainingJob({ model: ModelKind.MATCH, parameters: { epochs: 3 } }, { headers }));
    expect(unknown.rawMessage).toBe("parameters.epochs: unknown parameter 'epochs' (known: l2, iterations)");
  });
});
