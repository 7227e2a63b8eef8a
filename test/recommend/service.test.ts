import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Budget, RecommendationService, TripDuration } from "../../gen/mlmesh/recommend/v1/recommendation_service_pb.js";
import { haversineKm } from "../../services/numeric/geography.js";
import { seedTravellers } from "../../services/match/seed.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import { recommendArea } from "../../services/recommend/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };

/** The model trains after the mesh starts listening; health turns SERVING once it is in. */
async function serving(m: Mesh): Promise<Mesh> {
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${m.ports.grpc}` }));
  while ((await health.check({ service: "" })).status !== HealthCheckResponse_ServingStatus.SERVING)
    await new Promise((r) => setTimeout(r, 100));
  return m;
}

interface Traveller {
  id: string;
  interests: string[];
  latitude: number;
  longitude: number;
}

describe("RecommendationService", () => {
  let url: string;
  let db: Database;
  let mesh: Mesh;
  let active: Traveller[];
  let newcomer: Traveller;
  let booked: Map<string, Set<string>>;
  let months: Map<string, number[]>;

  beforeAll(async () => {
    url = (await testScope()).databaseUrl; // and this file's Redis prefix, which startTestMesh uses
    db = await openDatabase({ url, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 400, seed: 6 });
    // Only the first 300 travellers browse; the rest are newcomers.
    await seedDestinations(db, { destinations: 800, users: 300, seed: 6 });
    active = await db.sql<Traveller[]>`
      select id::text, interests, latitude, longitude from travellers
      where id in (select user_id from destination_interactions where kind = 'booked') order by id limit 8`;
    [newcomer] = await db.sql<Traveller[]>`
      select id::text, interests, latitude, longitude from travellers where id not in (select user_id from destination_interactions) limit 1`;
    // The tests loop over these travellers: none may be missing.
    expect(active).toHaveLength(8);
    expect(newcomer).toBeDefined();
    booked = new Map();
    for (const r of await db.sql<
      { user_id: string; destination_id: string }[]
    >`select user_id::text, destination_id from destination_interactions where kind = 'booked'`) {
      booked.get(r.user_id)?.add(r.destination_id) ?? booked.set(r.user_id, new Set([r.destination_id]));
    }
    months = new Map(
      (await db.sql<{ id: string; good_months: number[] }[]>`select id, good_months from destinations`).map((r) => [r.id, r.good_months]),
    );
    ({ mesh } = await startTestMesh([recommendArea], { DATABASE_URL: url }));
    await serving(mesh);
  }, 90_000);
  afterAll(async () => {
    await mesh?.shutdown();
    await db?.close();
  });

  const client = () => createClient(RecommendationService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));

  it("ranks ten destinations by default, best first, with scores in [0, 1] and reasons from the traveller's interests or history", async () => {
    for (const u of active) {
      const res = await client().recommendDestinations({ userId: u.id }, { headers });
      expect(res.recommendations).toHaveLength(10);
      expect(res.coldStart).toBe(false);
      expect(res.modelVersion).toMatch(/^mf-als\.\d+$/);
      const scores = res.recommendations.map((r) => r.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      for (const r of res.recommendations) {
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(r.destination).not.toBe("");
        expect(r.destinationId).not.toBe("");
        expect(r.country).not.toBe("");
        expect(r.tags.length).toBeGreaterThan(0);
        expect(r.costLevel).not.toBe(Budget.UNSPECIFIED);
        const named = /interest in ([a-z]+)(?: and ([a-z]+))?$/.exec(r.reason);
        if (named) for (const w of named.slice(1).filter(Boolean)) expect(u.interests).toContain(w);
        else
          expect(r.reason).toMatch(
            /^(Travellers with similar taste saved or booked it|Popular with travellers|One of the largest places in the catalogue)$/,
          );
      }
      // Diversity: no more than two places of one country.
      const perCountry = new Map<string, number>();
      for (const r of res.recommendations) perCountry.set(r.country, (perCountry.get(r.country) ?? 0) + 1);
      expect(Math.max(...perCountry.values())).toBeLessThanOrEqual(2);
    }
  });

  it("gives different travellers different lists, with reasons that differ too", async () => {
    const lists = await Promise.all(active.map((u) => client().recommendDestinations({ userId: u.id }, { headers })));
    expect(new Set(lists.map((l) => l.recommendations.map((r) => r.destinationId).join())).size).toBeGreaterThan(active.length / 2);
    expect(new Set(lists.flatMap((l) => l.recommendations.map((r) => r.reason))).size).toBeGreaterThan(3);
  });

  it("respects budget, season and trip length", async () => {
    const u = active[0];
    const low = await client().recommendDestinations({ userId: u.id, limit: 20, filters: { budget: Budget.LOW } }, { headers });
    expect(low.recommendations.length).toBe(20);
    for (const r of low.recommendations) expect(r.costLevel).toBe(Budget.LOW);
    const medium = await client().recommendDestinations({ userId: u.id, limit: 20, filters: { budget: Budget.MEDIUM } }, { headers });
    expect(medium.recommendations).toHaveLength(20);
    for (const r of medium.recommendations) expect([Budget.LOW, Budget.MEDIUM]).toContain(r.costLevel);
    for (const [date, month] of [
      ["2026-01-20", 1],
      ["2026-07-04", 7],
    ] as const) {
      const seasonal = await client().recommendDestinations({ userId: u.id, limit: 20, filters: { travelStartDate: date } }, { headers });
      expect(seasonal.recommendations.length).toBe(20);
      for (const r of seasonal.recommendations) expect(months.get(r.destinationId)).toContain(month);
    }
    const weekend = await client().recommendDestinations(
      { userId: u.id, limit: 5, filters: { duration: TripDuration.WEEKEND } },
      { headers },
    );
    expect(weekend.recommendations).toHaveLength(5);
    for (const r of weekend.recommendations)
      expect(haversineKm(u.latitude, u.longitude, r.latitude, r.longitude)).toBeLessThanOrEqual(1_500);
    const bad = await client()
      .recommendDestinations({ userId: u.id, filters: { travelStartDate: "2026-13-01" } }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("leaves out places already booked unless asked to include them", async () => {
    let includedSomewhere = false;
    for (const u of active) {
      const mine = booked.get(u.id)!;
      const without = await client().recommendDestinations({ userId: u.id, limit: 100 }, { headers });
      expect(mine.size).toBeGreaterThan(0);
      expect(without.recommendations).toHaveLength(100);
      for (const r of without.recommendations) expect(mine.has(r.destinationId)).toBe(false);
      const withVisited = await client().recommendDestinations(
        { userId: u.id, limit: 100, filters: { includeVisited: true } },
        { headers },
      );
      if (withVisited.recommendations.some((r) => mine.has(r.destinationId))) includedSomewhere = true;
    }
    expect(includedSomewhere).toBe(true);
  });

  it("drops a destination as soon as it is booked, by whoever records the booking", async () => {
    const u = active[0];
    const first = await client().recommendDestinations({ userId: u.id }, { headers }); // now cached
    const top = first.recommendations[0].destinationId;
    // A plain INSERT, as the booking service would write it: no call to the mesh.
    await db.sql`insert into destination_interactions (user_id, destination_id, kind, occurred_at) values (${u.id}, ${top}, 'booked', now())`;
    // PostgreSQL's announcement drops the cached state. The wait is generous for a busy machine and still proves the
    // announcement: unannounced, the state would be kept a minute in process and an hour in Redis.
    await expect
      .poll(async () => (await client().recommendDestinations({ userId: u.id }, { headers })).recommendations.map((r) => r.destinationId), {
        timeout: 30_000,
        interval: 20,
      })
      .not.toContain(top);
  });

  it("honours the limit: 0 means 10, up to 100, beyond is rejected", async () => {
    const u = active[1];
    expect((await client().recommendDestinations({ userId: u.id, limit: 3 }, { headers })).recommendations).toHaveLength(3);
    expect((await client().recommendDestinations({ userId: u.id, limit: 100 }, { headers })).recommendations).toHaveLength(100);
    const err = await client()
      .recommendDestinations({ userId: u.id, limit: 101 }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("recommends to a traveller with no history from their interests alone (cold start)", async () => {
    const res = await client().recommendDestinations({ userId: newcomer.id }, { headers });
    expect(res.coldStart).toBe(true);
    expect(res.recommendations).toHaveLength(10);
    for (const r of res.recommendations) expect(r.reason).not.toMatch(/similar taste/);
    const byInterest = res.recommendations.filter((r) => r.reason.startsWith("Based on your interest in"));
    expect(byInterest.length).toBeGreaterThan(0);
    for (const r of byInterest) {
      const words = /interest in ([a-z]+)(?: and ([a-z]+))?$/.exec(r.reason)!.slice(1).filter(Boolean);
      for (const w of words) expect(newcomer.interests).toContain(w);
    }
  });

  it("answers NOT_FOUND naming an unknown traveller", async () => {
    const id = "00000000-0000-4000-8000-00000000beef";
    const err = await client()
      .recommendDestinations({ userId: id }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).message).toContain(id);
  });

  it("still answers with Redis unreachable, and counts the cache bypass", async () => {
    const { mesh: offline } = await startTestMesh([recommendArea], { DATABASE_URL: url, REDIS_URL: "redis://127.0.0.1:1" });
    try {
      await serving(offline);
      const c = createClient(RecommendationService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${offline.ports.grpc}` }));
      const online = await client().recommendDestinations({ userId: active[2].id }, { headers });
      const res = await c.recommendDestinations({ userId: active[2].id }, { headers });
      expect(res.recommendations.map((r) => r.destinationId)).toEqual(online.recommendations.map((r) => r.destinationId));
      const bypass = await offline.metrics.cacheBypasses.get();
      expect(bypass.values.find((v) => v.labels.cache === "recommend_user")?.value).toBeGreaterThan(0);
    } finally {
      await offline.shutdown();
    }
  });
});
