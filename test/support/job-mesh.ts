import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobQueueService, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { jobHandlers } from "../../services/job-handlers.js";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { jobsAreaWith } from "../../services/jobs/service.js";
import { startJobWorker, type RunningWorker } from "../../services/jobs/worker-process.js";
import type { AreaFactory } from "../../services/runtime/area.js";
import type { MeshConfig } from "../../services/runtime/config.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "./mesh.js";

type Transport = ReturnType<typeof createGrpcTransport>;

/** A test mesh that runs jobs end to end: the server, an in-process worker taking its jobs, and a gRPC transport to it. */
export interface MeshWithWorker {
  readonly mesh: Mesh;
  readonly config: MeshConfig;
  readonly worker: RunningWorker;
  readonly transport: Transport;
  /** Stops the worker first (so no job is left half-run against a closed database), then the mesh. */
  shutdown(): Promise<void>;
}

/**
 * Starts a test mesh with `areas` plus the jobs area wired to every built-in
 * handler, and a job worker in this process on the mesh's own database and
 * metrics, so a test can submit a job and watch it finish without spawning a
 * worker process. `beforeWorker` runs once the mesh is up and before the
 * worker takes jobs, for seeding that needs the mesh's database.
 */
export async function startMeshWithWorker(
  areas: readonly AreaFactory[],
  env: Record<string, string>,
  beforeWorker?: (mesh: Mesh) => Promise<unknown>,
): Promise<MeshWithWorker> {
  const { mesh, config } = await startTestMesh([...areas, jobsAreaWith(jobHandlers)], env);
  let worker: RunningWorker;
  try {
    await beforeWorker?.(mesh);
    worker = await startJobWorker({
      config,
      jobs: loadJobsConfig(),
      db: mesh.db,
      handlers: jobHandlers,
      metrics: mesh.metrics,
      openAdmin: false,
    });
  } catch (err) {
    // The caller never gets the mesh to shut down, so it is stopped here rather than left holding ports and connections.
    await mesh.shutdown();
    throw err;
  }
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` });
  return {
    mesh,
    config,
    worker,
    transport,
    async shutdown() {
      await worker.shutdown();
      await mesh.shutdown();
    },
  };
}

/**
 * Follows `jobId` through WatchJob until the stream ends (the job reached a
 * final state) and returns the last Job seen; `timeoutMs` bounds the whole
 * watch, so a job that never finishes fails the test instead of hanging it.
 */
export async function jobEnded(transport: Transport, jobId: string, timeoutMs: number): Promise<Job> {
  let last: Job | undefined;
  const watch = createClient(JobQueueService, transport).watchJob(
    { jobId },
    { headers: { authorization: `Bearer ${TEST_KEY}` }, timeoutMs },
  );
  for await (const { job } of watch) last = job;
  return last!;
}
