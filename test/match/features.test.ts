import { describe, expect, it } from "vitest";
import { boundingBox, haversineKm } from "../../services/numeric/geography.js";
import { FEATURE_COUNT, pairFeatures, profileFeatures, textVectorsOf } from "../../services/match/features/pair-features.js";
import { decodeTextFeatures, encodeTextFeatures } from "../../services/match/features/text-features.js";
import { encodeParts, partSimilarities } from "../../services/match/features/text-parts.js";
import { cosine, fitIdf, vectorize } from "../../services/match/features/text-vectors.js";
import { DIMENSIONS } from "../../services/match/text/word-vectors.js";
import { generatePopulation } from "../../services/travellers/population.js";
import { generateInteractions, labelledPairs } from "../../services/match/interactions.js";

const members = [...generatePopulation({ count: 400, seed: 7 })];
const idf = fitIdf(members.map((m) => m.traveller.bio));

describe("match features", () => {
  it("measures great-circle distance", () => {
    expect(haversineKm(48.8566, 2.3522, 51.5074, -0.1278)).toBeCloseTo(343.5, 0); // Paris-London
    expect(haversineKm(35.6762, 139.6503, -33.8688, 151.2093)).toBeCloseTo(7823, -1); // Tokyo-Sydney
    const box = boundingBox(35.68, 139.75, 50);
    expect(box.maxLat - box.minLat).toBeCloseTo(0.899, 2);
    expect(haversineKm(35.68, 139.75, 35.68, box.maxLon)).toBeGreaterThanOrEqual(49.9);
  });

  it("is symmetric and bounded for every pair", () => {
    const x = new Float32Array(FEATURE_COUNT);
    const y = new Float32Array(FEATURE_COUNT);
    for (let i = 0; i < 200; i++) {
      const a = profileFeatures(members[i].traveller, idf);
      const b = profileFeatures(members[399 - i].traveller, idf);
      const context = { destination: "Paris", interests: ["art", "food"] };
      pairFeatures(a, b, context, x);
      pairFeatures(b, a, context, y);
      expect(Array.from(x)).toEqual(Array.from(y));
      for (const v of x) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1.0001);
      }
    }
  });

  it("gives a profile that leads a run of pairs the features it gets pair by pair, exactly", () => {
    const profiles = members.slice(0, 60).map((m) => profileFeatures(m.traveller, idf));
    const context = { destination: "Paris", interests: ["art", "food"] };
    // Each lead against every other profile in a row (its text vectors spread out from its second pair on)...
    const runs = profiles.slice(0, 5).map((lead) =>
      profiles.map((b) => {
        const x = new Float32Array(FEATURE_COUNT);
        pairFeatures(lead, b, context, x);
        return Array.from(x);
      }),
    );
    // ...against the same pairs met one at a time (the sides change every pair: the sparse merge).
    profiles.slice(0, 5).forEach((lead, k) => {
      profiles.forEach((b, j) => {
        const x = new Float32Array(FEATURE_COUNT);
        pairFeatures(profiles[(k + j + 7) % profiles.length], profiles[(k + 2 * j + 11) % profiles.length], context, x);
        pairFeatures(lead, b, context, x);
        expect(Array.from(x)).toEqual(runs[k][j]);
      });
    });
  });

  it("gives v2's word-vector cosines exactly as centring both sides and summing every term for every pair did", () => {
    // The computation before the shared sums and the table of quotients, term by term.
    const reference = (a: Int8Array, b: Int8Array, centre: Float32Array): number[] => {
      const u = new Float32Array(2 * DIMENSIONS);
      for (let from = 0; from < 2 * DIMENSIONS; from += DIMENSIONS) {
        let norm = 0;
        for (let k = from; k < from + DIMENSIONS; k++) {
          u[k] = a[k] / 127 - centre[k];
          norm += u[k] * u[k];
        }
        const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let k = from; k < from + DIMENSIONS; k++) u[k] *= scale;
      }
      return [0, DIMENSIONS].map((from) => {
        let [ub, uc, bb, bc, cc] = [0, 0, 0, 0, 0];
        for (let k = from; k < from + DIMENSIONS; k++) {
          const x = b[k] / 127;
          const c = centre[k];
          ub += u[k] * x;
          uc += u[k] * c;
          bb += x * x;
          bc += x * c;
          cc += c * c;
        }
        const norm2 = bb - 2 * bc + cc;
        return norm2 > 1e-9 ? (ub - uc) / Math.sqrt(norm2) : 0;
      });
    };
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const parts = Array.from({ length: 12 }, (_, i) =>
      // Every byte value, the extremes among them, and one traveller whose parts are the centre's own.
      i === 0
        ? Int8Array.from({ length: 2 * DIMENSIONS }, (_, k) => (k % 2 ? -128 : 127))
        : Int8Array.from({ length: 2 * DIMENSIONS }, () => next() & 0xff),
    );
    const centres = [new Float32Array(2 * DIMENSIONS), Float32Array.from({ length: 2 * DIMENSIONS }, () => ((next() % 200) - 100) / 400)];
    parts.push(Int8Array.from(centres[1], (c) => Math.round(c * 127)));
    for (const centre of centres) {
      // Leads in turn and back again, as store profiles (views) and as profiles read from rows (base64).
      for (const k of [0, 1, 0, 2, 12]) {
        for (const b of parts) {
          const want = reference(parts[k], b, centre);
          expect(partSimilarities({ textPartBytes: parts[k] }, { textPartBytes: b }, centre)).toEqual(want);
          expect(partSimilarities({ textParts: encodeParts(parts[k]) }, { textParts: encodeParts(b) }, centre)).toEqual(want);
        }
      }
    }
  });

  it("finds similar texts similar", () => {
    const idfSmall = fitIdf(["I love hiking in the mountains", "street food and markets", "museums and galleries", "late nights in bars"]);
    const hiking = vectorize("long hikes in the mountains and summits", idfSmall);
    expect(cosine(hiking, vectorize("I love hiking in the mountains", idfSmall))).toBeGreaterThan(
      cosine(hiking, vectorize("street food and markets", idfSmall)),
    );
    expect(cosine(hiking, hiking)).toBeCloseTo(1, 5);
  });

  it("round-trips stored text vectors exactly", () => {
    const vectors = textVectorsOf(members[3].traveller, idf);
    const back = decodeTextFeatures(encodeTextFeatures(vectors), 3);
    back.forEach((v, i) => {
      expect(v.indices).toEqual(vectors[i].indices);
      v.values.forEach((x, j) => {
        expect(x).toBeCloseTo(vectors[i].values[j], 6);
      });
    });
  });

  it("generates the same population and interactions for the same seed", () => {
    const again = [...generatePopulation({ count: 400, seed: 7 })];
    expect(again.map((m) => m.traveller)).toEqual(members.map((m) => m.traveller));
    const a = [...generateInteractions(members, { seed: 1, shownPerUser: 5 })];
    const b = [...generateInteractions(again, { seed: 1, shownPerUser: 5 })];
    expect(a).toEqual(b);
    const pairs = labelledPairs(a);
    const rate = pairs.filter((p) => p.matched).length / pairs.length;
    expect(rate).toBeGreaterThan(0.02);
    expect(rate).toBeLessThan(0.5);
    expect(new Set(members.map((m) => m.traveller.id)).size).toBe(400);
  });
});
