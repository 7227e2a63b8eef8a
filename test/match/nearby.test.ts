import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haversineKm } from "../../services/numeric/geography.js";
import { seedTravellers } from "../../services/match/seed.js";
import { cellRanges, geoCell } from "../../services/match/store/geo-cells.js";
import { nearbyTravellers } from "../../services/match/store/profiles.js";
import { openDatabase, type Database } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { testScope } from "../support/scope.js";

// Places where a box search goes wrong first: across the antimeridian, next to a pole, on cell edges.
const CENTRES = [
  { latitude: 0.1, longitude: 179.95 },
  { latitude: -33.87, longitude: 151.21 },
  { latitude: 89.4, longitude: 10 },
  { latitude: 51.5, longitude: 0 },
  { latitude: -0.001, longitude: -179.999 },
];

describe("nearbyTravellers", () => {
  let db: Database;
  let everyone: { id: string; latitude: number; longitude: number; age: number }[];

  beforeAll(async () => {
    db = await openDatabase({ url: (await testScope()).databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 3000, seed: 11 });
    // Move everyone to within about 2 degrees of one of the centres, deterministically.
    await db.sql`
      with placed as (
        select id, row_number() over (order by id) as n from travellers)
      update travellers t set
        latitude = greatest(-90, least(90, c.lat + (((p.n * 7919) % 4001) / 1000.0 - 2))),
        longitude = (((c.lon + (((p.n * 104729) % 4001) / 1000.0 - 2)) + 540)::numeric % 360 - 180)::float8
      from placed p, unnest(${CENTRES.map((c) => c.latitude)}::float8[], ${CENTRES.map((c) => c.longitude)}::float8[]) with ordinality as c(lat, lon, k)
      where t.id = p.id and c.k = p.n % ${CENTRES.length} + 1`;
    everyone = await db.sql`select id::text, latitude, longitude, age from travellers`;
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it("numbers cells as the geo_cell column does", async () => {
    const rows = await db.sql<
      { latitude: number; longitude: number; geo_cell: number }[]
    >`select latitude, longitude, geo_cell from travellers`;
    for (const r of rows) expect(geoCell(r.latitude, r.longitude)).toBe(r.geo_cell);
  });

  it("covers every point of a box with its cell ranges", () => {
    const box = {
      minLat: 10.1,
      maxLat: 11.3,
      lonRanges: [
        [178.6, 180],
        [-180, -179.2],
      ] as [number, number][],
    };
    const { lo, hi } = cellRanges(box);
    for (let lat = box.minLat; lat <= box.maxLat; lat += 0.01) {
      for (const [from, to] of box.lonRanges) {
        for (let lon = from; lon <= to; lon += 0.01) {
          const cell = geoCell(lat, lon);
          expect(
            lo.some((l, i) => cell >= l && cell <= hi[i]),
            `${lat} ${lon}`,
          ).toBe(true);
        }
      }
    }
  });

  it("finds exactly the travellers a full scan finds, near the antimeridian and the pole too", async () => {
    for (const c of CENTRES) {
      for (const km of [5, 50, 150]) {
        const [minAge, maxAge] = [25, 45];
        const rows = (await nearbyTravellers(db.sql, { ...c, km, minAge, maxAge, limit: 100_000 })).map((n) => n.row);
        // The box's corners are dropped in SQL already.
        for (const r of rows) expect(haversineKm(c.latitude, c.longitude, r.latitude, r.longitude)).toBeLessThanOrEqual(km * (1 + 1e-6));
        const found = rows
          .filter((r) => haversineKm(c.latitude, c.longitude, r.latitude, r.longitude) <= km)
          .map((r) => r.id)
          .sort();
        const expected = everyone
          .filter((t) => t.age >= minAge && t.age <= maxAge && haversineKm(c.latitude, c.longitude, t.latitude, t.longitude) <= km)
          .map((t) => t.id)
          .sort();
        expect(found, `${JSON.stringify(c)} ${km} km`).toEqual(expected);
        if (km === 150) expect(expected.length).toBeGreaterThan(10);
      }
    }
  });

  it("keeps the nearest when more than the limit qualify", async () => {
    const c = CENTRES[1];
    const rows = (await nearbyTravellers(db.sql, { ...c, km: 300, minAge: 18, maxAge: 120, limit: 20 })).map((n) => n.row);
    expect(rows).toHaveLength(20);
    const farthest = Math.max(...rows.map((r) => haversineKm(c.latitude, c.longitude, r.latitude, r.longitude)));
    const closer = everyone.filter((t) => haversineKm(c.latitude, c.longitude, t.latitude, t.longitude) < farthest * 0.98);
    expect(closer.length).toBeLessThanOrEqual(20);
  });
});
