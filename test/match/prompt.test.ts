import { beforeAll, describe, expect, it } from "vitest";
import { agesIn } from "../../services/match/prompt/ages.js";
import { interestNames, PromptReader } from "../../services/match/prompt/read.js";
import { planSearch } from "../../services/match/search-plan.js";

// Phrasings used neither in the development prompts nor in the held-out evaluation set.
describe("prompt reading", () => {
  let reader: PromptReader;
  beforeAll(async () => {
    reader = await PromptReader.load();
  }, 60_000);

  it.each([
    ["any skiers out there?", ["skiing"]],
    ["a fellow scuba diver", ["diving"]],
    ["foodie friends for Saturday", ["food"]],
    ["keen trekkers only", ["hiking"]],
    ["snorkellers", ["diving"]],
    ["guitarists and drummers", ["music"]],
    ["sketch artists", ["art"]],
    ["vineyards and a nice glass of wine", ["wine"]],
    ["people who like sightseeing cathedrals", ["architecture"]],
    ["a meditation retreat companion", ["wellness"]],
    ["someone to travel with", []],
    // Walks of life beside an interest: their words are near some cue, but ask for nothing.
    ["hikers who work in banking", ["hiking"]],
    ["professional photographers", ["photography"]],
    ["soccer fans for a beach trip", ["beach"]],
    ["people in retail who love wine", ["wine"]],
    ["history buffs who follow the elections", ["history"]],
    // What a prompt declines is not asked for, up to the end of its clause.
    ["hikers, not into nightlife", ["hiking"]],
    ["anything except skiing", []],
    ["love food but hate museums", ["food"]],
    ["I don't like clubs, divers please", ["diving"]],
    ["not only hiking but also diving", ["diving", "hiking"]],
    ["no older than 35 hikers please", ["hiking"]],
  ])("reads %j as %j (morphology, synonyms, word vectors)", (prompt, interests) => {
    expect(interestNames(reader.read(prompt)).sort()).toEqual([...interests].sort());
  });

  it.each([
    ["aged between twenty and thirty", [20, 30]],
    ["in their fifties", [50, 59]],
    ["early 40s please", [40, 43]],
    ["under thirty", [18, 29]],
    ["40+", [40, 120]],
    ["thirty-somethings", [30, 39]],
    ["a 25 km hike", undefined],
    ["18-25yo foodies", [18, 25]],
    ["no older than 35", [18, 35]],
    ["not younger than 30", [30, 120]],
    ["30 and older", [30, 120]],
    ["35 and under", [18, 35]],
  ])("reads the ages of %j as %j", (prompt, range) => {
    expect(agesIn(prompt)?.range).toEqual(range);
  });

  it("reads places from the city catalogue, the longest name first, ordinary words only when capitalised", () => {
    expect(reader.read("surfers living near lisbon").place?.name).toBe("Lisbon");
    expect(reader.read("museum lovers in Mexico City").place?.name).toBe("Mexico City");
    expect(reader.read("hikers from Kyoto").place?.name).toBe("Kyoto");
    // The catalogue spells some cities in ASCII only; people write their accents.
    expect(reader.read("foodies in São Paulo").place?.name).toBe("Sao Paulo");
    expect(reader.read("someone nice to have dinner in a nice place")).not.toHaveProperty("place");
    expect(reader.read("beach days in Nice").place?.name).toBe("Nice");
    expect(reader.read("divers within 20 km").km).toBe(20);
  });

  it("lets the request's fields win over what the prompt says", () => {
    const read = reader.read("hikers in their thirties in Lisbon within 10 km");
    const given = planSearch(
      { latitude: 35.68, longitude: 139.69, maxDistanceKm: 30, ageRangeYears: [25, 35] },
      read,
      undefined,
      reader.vectors,
    );
    expect(given).toMatchObject({ latitude: 35.68, longitude: 139.69, km: 30, minAge: 25, maxAge: 35 });
    const words = planSearch({ maxDistanceKm: 0, ageRangeYears: [] }, read, { latitude: 0, longitude: 0 }, reader.vectors);
    expect(words).toMatchObject({ km: 10, minAge: 30, maxAge: 39, place: { name: "Lisbon" } });
    expect(words.latitude).toBeCloseTo(38.72, 1);
    // Never wider than SearchMatches allows.
    expect(
      planSearch({ maxDistanceKm: 0, ageRangeYears: [] }, reader.read("within 2000 km"), { latitude: 0, longitude: 0 }, reader.vectors).km,
    ).toBe(500);
  });
});
