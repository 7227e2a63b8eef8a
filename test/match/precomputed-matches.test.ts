import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceTask, JobQueueService, JobStatus, type Job } from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";
import { MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { loadTravellers, nearbyTravellers } from "../../services/match/store/profiles.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { jobEnded, startMeshWithWorker, type MeshWithWorker } from "../support/job-mesh.js";
import { TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };
process.env.MLMESH_QUEUE_PREFIX = `test-precomputed-${process.pid}`;
const PARAMETERS = { top_k: 5, radius_km: 300 };

let started: MeshWithWorker;
let mesh: Mesh;
let transport: MeshWithWorker["transport"];

beforeAll(async () => {
  const scope = await testScope();
  const seeding = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
  await migrate(seeding.sql);
  await seedTravellers(seeding, { count: 250, seed: 13 });
  await seeding.close();
  started = await startMeshWithWorker([matchArea], scope.env);
  ({ mesh, transport } = started);
}, 60_000);

afterAll(async () => {
  await started?.shutdown();
});

async function run(parameters: Record<string, number | boolean>): Promise<Job> {
  const jobs = createClient(JobQueueService, transport);
  const { jobId } = (await jobs.submitInferenceJob({ task: InferenceTask.SCORE_CANDIDATES, parameters }, { headers })).job!;
  const last = await jobEnded(transport, jobId, 60_000);
  expect(last.status, last.error).toBe(JobStatus.COMPLETED);
  return last;
}

/** Each traveller's candidates as the job finds them: near them and in their accepted ages. */
async function candidatesOf(id: string): Promise<string[]> {
  const [me] = await loadTravellers(mesh.db.sql, [id]);
  const found = await nearbyTravellers(mesh.db.sql, {
    latitude: me.latitude,
    longitude: me.longitude,
    km: PARAMETERS.radius_km,
    minAge: me.min_accepted_age,
    maxAge: me.max_accepted_age,
    limit: 1000,
    exclude: id,
  });
  return found.map((c) => c.row.id);
}

type Row = { user_id: string; matches: { user_id: string; score: number }[]; computed_at: Date };
const rows = async () =>
  new Map(
    (await mesh.db.sql<Row[]>`select user_id::text, matches, computed_at from match_precomputed`).map((r) => [r.user_id, r] as const),
  );

describe("score_candidates", () => {
  it("stores every traveller's top K in ScoreCandidates' order, and a rerun recomputes only the rows a changed profile touches", async () => {
    const first = await run(PARAMETERS);
    const ids = (await mesh.db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
    expect(first.result).toMatchObject({ travellers: ids.length, recomputed: ids.length, unchanged: 0 });
    const stored = await rows();
    expect([...stored.keys()].sort()).toEqual(ids);

    const candidates = new Map<string, string[]>();
    for (const id of ids) candidates.set(id, await candidatesOf(id));
    const sample = ids.filter((id) => candidates.get(id)!.length > PARAMETERS.top_k).slice(0, 5);
    expect(sample.length).toBe(5);
    const match = createClient(MatchScoringService, transport);
    for (const id of sample) {
      const live = await match.scoreCandidates({ userId: id, candidateIds: candidates.get(id)!, limit: PARAMETERS.top_k }, { headers });
      const row = stored.get(id)!;
      expect(row.matches).toHaveLength(PARAMETERS.top_k);
      expect(row.matches.map((m) => m.user_id)).toEqual(live.candidates.map((c) => c.userId));
      for (const [i, m] of row.matches.entries()) expect(m.score).toBeCloseTo(live.candidates[i].score, 5);
    }

    // A feed reads them through the contract.
    const feed = await match.getPrecomputedMatches({ userId: sample[0], limit: 3 }, { headers });
    expect(feed.matches.map((m) => m.userId)).toEqual(
      stored
        .get(sample[0])!
        .matches.slice(0, 3)
        .map((m) => m.user_id),
    );
    expect(feed.modelVersion).toContain("v0");
    const none = await match
      .getPrecomputedMatches({ userId: "00000000-0000-4000-8000-000000000000" }, { headers })
      .then(() => undefined, ConnectError.from);
    expect(none?.code).toBe(Code.NotFound);

    // Nothing changed: nothing is recomputed.
    expect((await run(PARAMETERS)).result).toMatchObject({ recomputed: 0, unchanged: ids.length });

    // One profile changes: its own row and the rows of those who have it as a candidate are recomputed, no other.
    const changed = sample[0];
    await mesh.db.sql`update travellers set interests = array['surfing', 'museums'] where id = ${changed}`;
    const affected = new Set([changed, ...ids.filter((id) => candidates.get(id)!.includes(changed))]);
    expect(affected.size).toBeLessThan(ids.length);
    const second = await run(PARAMETERS);
    expect(second.result).toMatchObject({ recomputed: affected.size, unchanged: ids.length - affected.size });
    const after = await rows();
    for (const id of ids) {
      const moved = after.get(id)!.computed_at.getTime() !== stored.get(id)!.computed_at.getTime();
      expect(moved, id).toBe(affected.has(id));
    }

    // Another model version (here: rows recorded under an older one) recomputes everything.
    await mesh.db.sql`update match_precomputed set model_version = 'match-v1.0'`;
    expect((await run(PARAMETERS)).result).toMatchObject({ recomputed: ids.length, unchanged: 0 });
  }, 120_000);
});
