import { generatePopulation, INTERESTS, type PopulationMember } from "../../travellers/index.js";
import { buildCatalogue } from "../catalogue.js";
import type { Observations, TrainingData } from "../factorisation.js";
import { popularityScores } from "../holdout.js";
import {
  BROWSING_START_DAY,
  destinationWorld,
  generateDestinationInteractions,
  historyOf,
  type DestinationInteraction,
  type DestinationWorld,
} from "../interactions.js";

/** Events before this day are the training period; each judged traveller's first new save or booking after it is held out. */
export const EVALUATION_FROM_DAY = BROWSING_START_DAY + 270;

export interface RecommendEvaluationData {
  members: PopulationMember[];
  world: DestinationWorld;
  data: TrainingData;
  observed: Observations[];
  /** Per traveller: the held-out destination, or undefined when they are not judged. */
  heldOut: (number | undefined)[];
  /** Per traveller: the day of the held-out event. */
  heldOutDay: number[];
  popularity: Float32Array;
  events: number;
}

/**
 * One population's year of browsing, split by time: the model and popularity
 * see the events before EVALUATION_FROM_DAY only (what a server trained then
 * would hold); a traveller with a save or booking in that period is judged on
 * the first destination they save or book afterwards that they had not
 * touched before.
 */
export function recommendEvaluationData(seed: number, users: number, destinations: number): RecommendEvaluationData {
  const catalogue = buildCatalogue(destinations);
  const members = [...generatePopulation({ count: users, seed })];
  const byUser = new Map<string, DestinationInteraction[]>();
  let events = 0;
  for (const e of generateDestinationInteractions(members, catalogue, { seed })) {
    events++;
    byUser.get(e.userId)?.push(e) ?? byUser.set(e.userId, [e]);
  }
  const heldOut: (number | undefined)[] = [];
  const heldOutDay: number[] = [];
  const usersData = members.map((m) => {
    const mine = byUser.get(m.traveller.id) ?? [];
    const before = mine.filter((e) => e.day < EVALUATION_FROM_DAY);
    const touched = new Set(before.map((e) => e.destination));
    const next = before.some((e) => e.kind !== "viewed")
      ? mine.find((e) => e.day >= EVALUATION_FROM_DAY && e.kind !== "viewed" && !touched.has(e.destination))
      : undefined;
    heldOut.push(next?.destination);
    heldOutDay.push(next?.day ?? 0);
    return { interests: m.traveller.interests.map((t) => INTERESTS.indexOf(t)), observed: historyOf(before) };
  });
  const itemTags = catalogue.map((d) => d.tags.map((t) => INTERESTS.indexOf(t)));
  const observed = usersData.map((u) => u.observed);
  return {
    members,
    world: destinationWorld(catalogue, seed),
    data: { items: catalogue.length, features: INTERESTS.length, users: usersData, itemTags },
    observed,
    heldOut,
    heldOutDay,
    popularity: popularityScores(observed, catalogue.length),
    events,
  };
}
