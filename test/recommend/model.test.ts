import { describe, expect, it } from "vitest";
import { generatePopulation } from "../../services/travellers/population.js";
import { INTERESTS } from "../../services/travellers/interests.js";
import { buildCatalogue } from "../../services/recommend/catalogue.js";
import { mapped, scoreAll, trainFactorisation, userVector } from "../../services/recommend/factorisation.js";
import { admits } from "../../services/recommend/filters.js";
import { generateDestinationInteractions, historyOf } from "../../services/recommend/interactions.js";
import { topK } from "../../services/recommend/ranking.js";
import { reasonOf, scoreParts } from "../../services/recommend/reasons.js";
import { goodMonthsOf, inSeason, monthsOf } from "../../services/recommend/seasons.js";

describe("destination catalogue", () => {
  it("describes the same real place the same way whatever the size, and reaches 10,000 with districts", () => {
    const small = buildCatalogue(300);
    const large = buildCatalogue(10_000);
    expect(large).toHaveLength(10_000);
    expect(new Set(large.map((d) => d.id)).size).toBe(10_000);
    expect(large.slice(0, 300)).toEqual(small);
    expect(large.some((d) => / (Old Town|Harbour|Riverside)/.test(d.name))).toBe(true);
    for (const d of large) {
      expect(d.tags.length).toBeGreaterThanOrEqual(2);
      for (const t of d.tags) expect(INTERESTS).toContain(t);
      expect([1, 2, 3]).toContain(d.costLevel);
      expect(Math.abs(d.longitude)).toBeLessThanOrEqual(180);
    }
    const tokyo = small.find((d) => d.name === "Tokyo")!;
    expect(tokyo.country).toBe("Japan");
    expect(tokyo.tags).toContain("nightlife");
  });

  it("puts the good months of temperate places in their own hemisphere's summer", () => {
    const north = goodMonthsOf(48.9, false, 0);
    const south = goodMonthsOf(-34.6, false, 0);
    expect(inSeason(north, 7) && !inSeason(north, 1)).toBe(true);
    expect(inSeason(south, 1) && !inSeason(south, 7)).toBe(true);
    expect(monthsOf(goodMonthsOf(47, true, 0))).toContain(1); // ski resorts are good in winter too
  });
});

describe("factorisation and ranking", () => {
  const catalogue = buildCatalogue(400);
  const members = [...generatePopulation({ count: 600, seed: 11 })];
  const events = [...generateDestinationInteractions(members, catalogue, { seed: 11 })];
  const users = members.map((m) => ({
    interests: m.traveller.interests.map((t) => INTERESTS.indexOf(t)),
    observed: historyOf(events.filter((e) => e.userId === m.traveller.id)),
  }));
  const { model } = trainFactorisation(
    { items: catalogue.length, features: INTERESTS.length, users, itemTags: catalogue.map((d) => d.tags.map((t) => INTERESTS.indexOf(t))) },
    { iterations: 4 },
  );

  it("gives a traveller without history exactly their interests' vector, and splits every score into its parts", () => {
    const cold = userVector(model, users[0].interests, { index: new Int32Array(0), strength: new Float32Array(0) });
    expect(Array.from(cold)).toEqual(
      Array.from(Float32Array.from(mapped(model.interestMap, users[0].interests, model.dim, new Float64Array(model.dim)))),
    );
    const warm = userVector(model, users[1].interests, users[1].observed);
    const scores = scoreAll(model, warm);
    for (const i of [0, 17, 250]) {
      const parts = scoreParts(model, warm, users[1].interests, i);
      const sum = parts.popularity + parts.collaborative + parts.interests.reduce((a, p) => a + p.share, 0);
      expect(sum).toBeCloseTo(scores[i], 4);
    }
    const coldParts = scoreParts(model, cold, users[0].interests, 3);
    expect(Math.abs(coldParts.collaborative)).toBeLessThan(1e-4);
  });

  it("names the interests that carry a score, and similar travellers when history does", () => {
    expect(
      reasonOf(
        {
          interests: [
            { interest: "food", share: 0.2 },
            { interest: "art", share: 0.05 },
            { interest: "beach", share: -0.1 },
          ],
          popularity: 0.1,
          collaborative: 0.01,
        },
        ["art", "food"],
      ),
    ).toBe("Based on your interest in food and art");
    expect(reasonOf({ interests: [{ interest: "food", share: 0.02 }], popularity: 0.05, collaborative: 0.3 }, ["food"])).toBe(
      "Travellers with similar taste saved or booked it; it also fits your interest in food",
    );
    expect(reasonOf({ interests: [{ interest: "food", share: -0.02 }], popularity: 0.2, collaborative: 0.01 }, ["food"])).toBe(
      "Popular with travellers",
    );
  });

  it("keeps at most two places per country unless the filters leave no other", () => {
    const scores = Float32Array.from([0.9, 0.8, 0.7, 0.6, 0.5]);
    const countries = ["A", "A", "A", "B", "A"];
    expect(
      topK(
        scores,
        3,
        () => true,
        (i) => countries[i],
      ),
    ).toEqual([0, 1, 3]);
    expect(
      topK(
        scores,
        5,
        (i) => countries[i] === "A",
        (i) => countries[i],
      ),
    ).toEqual([0, 1, 2, 4]);
  });

  it("ranks exactly as a full sort would, ties and a crowded country included", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 3000);
      // Coarse scores make ties; one or two countries overflow the pool and force the fallback.
      const levels = trial % 2 ? 50 : 2;
      const scores = Float32Array.from({ length: n }, () => Math.round(random() * levels) / levels);
      const countries = Array.from({ length: n }, () => String(Math.floor(random() * (trial % 3 === 0 ? 2 : 40))));
      const admitted = Array.from({ length: n }, () => random() < 0.7);
      const limit = 1 + Math.floor(random() * 12);
      const order = [...Array(n).keys()].filter((i) => admitted[i]).sort((a, b) => scores[b] - scores[a] || a - b);
      const picked: number[] = [];
      const held: number[] = [];
      const per = new Map<string, number>();
      for (const i of order) {
        if (picked.length === limit) break;
        if ((per.get(countries[i]) ?? 0) >= 2) held.push(i);
        else {
          picked.push(i);
          per.set(countries[i], (per.get(countries[i]) ?? 0) + 1);
        }
      }
      for (const i of held) if (picked.length < limit) picked.push(i);
      expect(
        topK(
          scores,
          limit,
          (i) => admitted[i],
          (i) => countries[i],
        ),
        `trial ${trial}`,
      ).toEqual(picked);
    }
  });

  it("filters by budget, season, reach and bookings", () => {
    const d = { ...catalogue[0], costLevel: 3 as const, goodMonths: goodMonthsOf(catalogue[0].latitude, false, 0) };
    const home = { latitude: d.latitude, longitude: d.longitude, booked: new Set<string>() };
    expect(admits(d, { maxCost: 2, includeVisited: false }, home)).toBe(false);
    expect(admits(d, { maxCost: 3, includeVisited: false }, home)).toBe(true);
    const offSeason = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].find((m) => !inSeason(d.goodMonths, m))!;
    expect(admits(d, { month: offSeason, includeVisited: false }, home)).toBe(false);
    expect(admits(d, { length: "weekend", includeVisited: false }, { ...home, latitude: -d.latitude, longitude: d.longitude + 180 })).toBe(
      false,
    );
    expect(admits(d, { length: "month", includeVisited: false }, { ...home, latitude: -d.latitude })).toBe(true);
    expect(admits(d, { includeVisited: false }, { ...home, booked: new Set([d.id]) })).toBe(false);
    expect(admits(d, { includeVisited: true }, { ...home, booked: new Set([d.id]) })).toBe(true);
  });
});
