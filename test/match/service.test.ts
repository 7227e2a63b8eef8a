import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "@bufbuild/protobuf";
import { MatchedProfileSchema, MatchScoringService } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { haversineKm } from "../../services/numeric/geography.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { announcePromotion } from "../../services/registry/index.js";
import { trainFromDatabase } from "../../services/match/training.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope, TEST_REDIS_URL, type TestScope } from "../support/scope.js";

const headers = { authorization: `Bearer ${TEST_KEY}` };

describe("MatchScoringService", () => {
  let url: string;
  let scope: TestScope;
  let mesh: Mesh;
  let client: Client<typeof MatchScoringService>;
  let tokyo: { id: string; latitude: number; longitude: number; age: number }[];
  /** The feature set of the version training promoted (v2 unless v1 beat it). */
  let featureSet: string;
  /** Every traveller's home, to check the distances a search reports. */
  let homes: Map<string, { latitude: number; longitude: number }>;

  beforeAll(async () => {
    scope = await testScope();
    url = scope.databaseUrl;
    const db = await openDatabase({ url, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 10_000, seed: 5 });
    // Trained and promoted before the server starts: it must load and warm it.
    const outcome = await trainFromDatabase(db.sql);
    expect(outcome.promoted).toBe(true);
    featureSet = outcome.featureSet;
    // The most populous home city, so that neighbours exist.
    tokyo = await db.sql`
      select id::text, latitude, longitude, age from travellers
      where city = (select city from travellers group by city order by count(*) desc, city limit 1)
      order by id limit 60`;
    expect(tokyo.length).toBe(60);
    homes = new Map(
      (await db.sql<{ id: string; latitude: number; longitude: number }[]>`select id::text, latitude, longitude from travellers`).map(
        (t) => [t.id, t],
      ),
    );
    await db.close();
    ({ mesh } = await startTestMesh([matchArea], scope.env));
    client = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
  }, 120_000);
  afterAll(async () => {
    await mesh?.shutdown();
  });

  it("scores a pair with the learned model, symmetrically, with factors in [0, 1]", async () => {
    const [a, b] = tokyo;
    const ab = await client.scoreMatch(
      { userAId: a.id, userBId: b.id, context: { destination: "Paris", dates: "2026-03-01" } },
      { headers },
    );
    const ba = await client.scoreMatch(
      { userAId: b.id, userBId: a.id, context: { destination: "Paris", dates: "2026-03-01" } },
      { headers },
    );
    expect(ab.score).toBe(ba.score);
    expect(ab.score).toBeGreaterThan(0);
    expect(ab.score).toBeLessThan(1);
    expect(ab.scorePercent).toBeCloseTo(ab.score * 100, 0);
    expect(ab.modelVersion).toMatch(new RegExp(`^match-${featureSet}\\.\\d+$`));
    const factors = Object.values(ab.factors!).filter((v) => typeof v === "number");
    expect(factors.length).toBeGreaterThan(0);
    for (const v of factors) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(ab.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it("coalesces concurrent ScoreMatch calls into fewer model executions", async () => {
    const before = await executions();
    const calls = tokyo
      .slice(1, 41)
      .map((b) => client.scoreMatch({ userAId: tokyo[0].id, userBId: b.id, context: { destination: "Lima" } }, { headers }));
    const results = await Promise.all(calls);
    expect(results).toHaveLength(40);
    const used = (await executions()) - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(40);
  });

  it("names unknown travellers with NOT_FOUND", async () => {
    const err = await client
      .scoreMatch({ userAId: tokyo[0].id, userBId: "00000000-0000-4000-8000-000000000001" }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toContain("00000000-0000-4000-8000-000000000001");
  });

  it("ranks candidates best first in one run", async () => {
    const ids = tokyo.slice(1, 51).map((t) => t.id);
    const res = await client.scoreCandidates({ userId: tokyo[0].id, candidateIds: ids, limit: 10 }, { headers });
    expect(res.candidates).toHaveLength(10);
    for (let i = 1; i < 10; i++) expect(res.candidates[i - 1].score).toBeGreaterThanOrEqual(res.candidates[i].score);
    const single = await client.scoreMatch({ userAId: tokyo[0].id, userBId: res.candidates[0].userId }, { headers });
    expect(single.score).toBeCloseTo(res.candidates[0].score, 5);
  });

  it("searches by prompt within the distance and age range, with reasons", async () => {
    const centre = tokyo[0];
    const res = await client.searchMatches(
      {
        prompt: "Looking for hiking enthusiasts",
        latitude: centre.latitude,
        longitude: centre.longitude,
        maxDistanceKm: 30,
        ageRangeYears: [25, 40],
        limit: 5,
      },
      { headers },
    );
    expect(res.candidatesConsidered).toBeGreaterThan(0);
    expect(res.matches.length).toBeGreaterThan(0);
    for (const m of res.matches) {
      expect(m.age).toBeGreaterThanOrEqual(25);
      expect(m.age).toBeLessThanOrEqual(40);
      expect(m.distanceKm).toBeLessThanOrEqual(30);
      expect(m.matchReasons.length).toBeGreaterThan(0);
    }
    // Relevance leads: travellers who declare hiking come first, each saying so; compatibility orders each group.
    const hikes = res.matches.map((m) => m.interests.includes("hiking"));
    expect(hikes.indexOf(false) === -1 || !hikes.slice(hikes.indexOf(false)).includes(true)).toBe(true);
    for (let i = 1; i < res.matches.length; i++) {
      if (hikes[i - 1] === hikes[i]) expect(res.matches[i - 1].matchScore).toBeGreaterThanOrEqual(res.matches[i].matchScore);
    }
    for (const m of res.matches.filter((m) => m.interests.includes("hiking"))) {
      expect(m.matchReasons[0]).toMatch(/^hikes/);
      expect(m.factors!.prompt).toBeGreaterThan(0.8);
    }
    // Around a traveller's own home, excluding them.
    const mine = await client.searchMatches({ userId: centre.id, limit: 5 }, { headers });
    expect(mine.matches.length).toBeGreaterThan(0);
    expect(mine.matches.map((m) => m.userId)).not.toContain(centre.id);
    // Each distance reported is the great-circle distance from the centre to the match's home, in whole kilometres.
    for (const m of [...res.matches, ...mine.matches]) {
      const home = homes.get(m.userId)!;
      const km = haversineKm(centre.latitude, centre.longitude, home.latitude, home.longitude);
      expect(m.distanceKm, m.userId).toBe(km < 1 ? 0 : Math.round(km));
      expect(m.within1Km).toBe(km < 1);
    }
  });

  it("reads interests, ages and a place from the prompt, for a searcher who lives elsewhere", async () => {
    const db = await openDatabase({ url, dataDir: "" });
    const [city] = await db.sql<{ city: string }[]>`
      select city from travellers where 'diving' = any(interests) and age between 30 and 39
      group by city order by count(*) desc, city limit 1`;
    const [far] = await db.sql<{ id: string }[]>`select id::text from travellers where city <> ${city.city} order by id limit 1`;
    await db.close();
    const res = await client.searchMatches(
      { userId: far.id, prompt: `scuba people in their thirties around ${city.city}`, limit: 10 },
      { headers },
    );
    expect(res.matches.length).toBeGreaterThan(0);
    // Divers in their thirties near that city, divers first; the reasons say what matched.
    const dives = res.matches.map((m) => m.interests.includes("diving"));
    expect(dives[0]).toBe(true);
    expect(dives.slice(dives.indexOf(false) === -1 ? dives.length : dives.indexOf(false))).not.toContain(true);
    for (const m of res.matches) {
      expect(m.age).toBeGreaterThanOrEqual(30);
      expect(m.age).toBeLessThanOrEqual(39);
      if (m.interests.includes("diving")) expect(m.matchReasons[0]).toBe("dives");
      expect(m.matchReasons).toContainEqual(
        expect.stringMatching(new RegExp(`^lives (in ${city.city}|\\d+ km from ${city.city}|within 1 km of ${city.city})$`)),
      );
    }
  });

  it("bounds the search: at most 500 km and 50 results, INVALID_ARGUMENT naming the field and rule beyond", async () => {
    const centre = tokyo[0];
    const at = { prompt: "x", latitude: centre.latitude, longitude: centre.longitude };
    const far = await client.searchMatches({ ...at, maxDistanceKm: 501 }, { headers }).catch((e) => ConnectError.from(e));
    expect((far as ConnectError).code).toBe(Code.InvalidArgument);
    expect((far as ConnectError).rawMessage).toMatch(/max_distance_km.*500/);
    const many = await client.searchMatches({ ...at, limit: 51 }, { headers }).catch((e) => ConnectError.from(e));
    expect((many as ConnectError).code).toBe(Code.InvalidArgument);
    expect((many as ConnectError).rawMessage).toMatch(/limit.*50/);
    const widest = await client.searchMatches({ ...at, maxDistanceKm: 500, limit: 50 }, { headers });
    expect(widest.matches.length).toBeGreaterThan(0);
    expect(widest.matches.length).toBeLessThanOrEqual(50);
  });

  it("answers with whole kilometres, nearer than 1 km without a figure, and no bio or coordinates", async () => {
    // Centred on a traveller's own home, with their age only: they are among the few found, at distance 0.
    const me = tokyo[1];
    const res = await client.searchMatches(
      {
        prompt: "Looking for hiking enthusiasts",
        latitude: me.latitude,
        longitude: me.longitude,
        maxDistanceKm: 20,
        ageRangeYears: [me.age, me.age],
        limit: 50,
      },
      { headers },
    );
    const self = res.matches.find((m) => m.userId === me.id);
    expect(self, "the traveller living at the centre").toBeDefined();
    expect(self).toMatchObject({ distanceKm: 0, within1Km: true });
    const wide = await client.searchMatches(
      { prompt: "Looking for hiking enthusiasts", latitude: me.latitude, longitude: me.longitude, maxDistanceKm: 500, limit: 50 },
      { headers },
    );
    for (const m of [...res.matches, ...wide.matches]) {
      expect(Number.isInteger(m.distanceKm)).toBe(true);
      if (m.within1Km) expect(m.distanceKm).toBe(0);
      else expect(m.distanceKm).toBeGreaterThanOrEqual(1);
    }
    expect(wide.matches.some((m) => m.distanceKm > 1)).toBe(true);
    // The fields a match card needs, and nothing else.
    for (const m of wide.matches) {
      const json = toJson(MatchedProfileSchema, m, { alwaysEmitImplicit: true }) as Record<string, unknown>;
      expect(Object.keys(json).sort()).toEqual([
        "age",
        "displayName",
        "distanceKm",
        "factors",
        "interests",
        "matchReasons",
        "matchScore",
        "travelStyle",
        "userId",
        "within1Km",
      ]);
    }
  });

  it("rejects out-of-range coordinates and ages", async () => {
    const bad = await client.searchMatches({ prompt: "x", latitude: 91, longitude: 0 }, { headers }).catch((e) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    const ages = await client
      .searchMatches({ prompt: "x", latitude: 1, longitude: 0, ageRangeYears: [40, 20] }, { headers })
      .catch((e) => ConnectError.from(e));
    expect((ages as ConnectError).code).toBe(Code.InvalidArgument);
    expect((ages as ConnectError).rawMessage).toContain("age_range");
  });

  it("swaps in a newly promoted version announced on Redis, without failing a request", async () => {
    const db = await openDatabase({ url, dataDir: "" });
    const outcome = await trainFromDatabase(db.sql, { force: true });
    await db.close();
    const pub = new Redis(TEST_REDIS_URL);
    let stop = false;
    let failures = 0;
    const load = (async () => {
      while (!stop) {
        await client.scoreMatch({ userAId: tokyo[0].id, userBId: tokyo[2].id }, { headers }).catch(() => failures++);
      }
    })();
    await announcePromotion(pub, scope.redisPrefix, "match", outcome.version);
    await expect
      .poll(async () => (await client.scoreMatch({ userAId: tokyo[0].id, userBId: tokyo[3].id }, { headers })).modelVersion, {
        timeout: 30_000,
      })
      .toBe(`match-${outcome.featureSet}.${outcome.version}`);
    stop = true;
    await load;
    pub.disconnect();
    expect(failures).toBe(0);
  });

  async function executions(): Promise<number> {
    const m = await mesh.metrics.modelExecutions.get();
    return m.values.reduce((a, v) => a + v.value, 0);
  }
  it("answers a search alike from the profile store and from the rows", async () => {
    // The same database, served without the store: every candidate read from its row.
    const { mesh: rowsOnly } = await startTestMesh([matchArea], { ...scope.env, MATCH_PROFILE_STORE: "false" });
    try {
      const other = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${rowsOnly.ports.grpc}` }));
      // The store fills after the mesh is serving: a search before then reads rows too.
      const filled = async () =>
        (await (await fetch(`http://127.0.0.1:${mesh.ports.admin}/metrics`)).text()).match(
          /^mlmesh_match_profile_store_filled (\S+)$/m,
        )?.[1];
      await expect.poll(filled, { timeout: 60_000 }).toBe("1");
      const [me, near] = tokyo;
      const at = { latitude: near.latitude, longitude: near.longitude };
      const searches = [
        // Interests asked for: relevance from interests, text vectors read for the answers only.
        { prompt: "Looking for hikers and foodies", ...at, maxDistanceKm: 40, ageRangeYears: [25, 45], limit: 10 },
        // No interest named: every candidate's text vector ranks it.
        { prompt: "someone calm who likes slow quiet mornings", ...at, maxDistanceKm: 60, limit: 20 },
        // A traveller's own search, without and with a prompt.
        { userId: me.id, limit: 15 },
        { userId: me.id, prompt: "diving trip", maxDistanceKm: 100, limit: 5 },
      ];
      for (const req of searches) {
        const [fromStore, fromRows] = await Promise.all([client.searchMatches(req, { headers }), other.searchMatches(req, { headers })]);
        expect(fromStore.matches.length).toBeGreaterThan(0);
        expect(fromStore.candidatesConsidered).toBe(fromRows.candidatesConsidered);
        expect(fromStore.matches.map((m) => toJson(MatchedProfileSchema, m))).toEqual(
          fromRows.matches.map((m) => toJson(MatchedProfileSchema, m)),
        );
      }
    } finally {
      await rowsOnly.shutdown();
    }
  });
});

describe("MatchScoringService without Redis", () => {
  it("still scores, bypassing the shared cache and counting the bypass", async () => {
    const scope = await testScope("noredis");
    const db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 500, seed: 8 });
    const ids = await db.sql<{ id: string }[]>`select id::text from travellers order by id limit 2`;
    await db.close();
    const { mesh } = await startTestMesh([matchArea], { ...scope.env, REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const client = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
      const res = await client.scoreMatch({ userAId: ids[0].id, userBId: ids[1].id }, { headers });
      // No model was trained in this database: the predecessor's weights answer.
      expect(res.modelVersion).toContain("v0");
      expect(res.score).toBeGreaterThan(0);
      const bypass = await mesh.metrics.cacheBypasses.get();
      expect(bypass.values.find((v) => v.labels.cache === "match_profile")?.value).toBeGreaterThan(0);
    } finally {
      await mesh.shutdown();
    }
  });
});

describe("profile invalidation", () => {
  it("drops a profile changed by any writer from every cache, on PostgreSQL's announcement", async () => {
    const scope = await testScope("invalidate");
    const db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 300, seed: 9 });
    const [a, b] = await db.sql<{ id: string }[]>`select id::text from travellers order by id limit 2`;
    // The prediction cache is on (the default): a cached answer for the pair must not outlive the profile either.
    const { mesh } = await startTestMesh([matchArea], scope.env);
    try {
      const client = createClient(MatchScoringService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
      // Make b far away and outside a's accepted ages; the distance and age factors must follow.
      await db.sql`update travellers set age = 30, min_accepted_age = 25, max_accepted_age = 35 where id = ${a.id}`;
      await db.sql`update travellers set latitude = 0, longitude = 0, age = 70 where id = ${b.id}`;
      // These updates are announced like the one below, and an announcement can reach the mesh after the next
      // call (on a busy machine, it did): the starting point is the first answer that shows them. b's age is now
      // outside a's range, so a's half of the age factor is about 0 and the factor at most one half.
      const score = () => client.scoreMatch({ userAId: a.id, userBId: b.id }, { headers });
      let before = await score();
      await expect.poll(async () => (before = await score()).factors!.age, { timeout: 30_000 }).toBeLessThan(0.51);
      // A plain UPDATE, as another service would write it: no call to the mesh.
      await db.sql`update travellers set latitude = -45, longitude = 170, age = 30, updated_at = now() where id = ${b.id}`;
      await expect.poll(async () => (await score()).factors!.age, { timeout: 30_000 }).toBeGreaterThan(before.factors!.age);
    } finally {
      await db.close();
      await mesh.shutdown();
    }
  });
});
