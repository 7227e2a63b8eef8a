import { haversineKm } from "../numeric/geography.js";
import { Random } from "../numeric/random.js";
import { POPULATION_EPOCH_DAY, TRAVEL_STYLES, type PopulationMember, type Traveller } from "../travellers/index.js";

// Who liked whom among the synthetic travellers: match's training data (the
// traveller_interactions table), as recommend/interactions.ts is recommend's.

export type InteractionKind = "like" | "pass" | "match" | "message";

export interface Interaction {
  fromId: string;
  toId: string;
  kind: InteractionKind;
  /** Day number of the event. */
  day: number;
}

/**
 * How travel styles really get along, unknown to every model: the learned
 * model has to discover it from who liked whom.
 */
const STYLE_AFFINITY: number[][] = [
  // backpacker, budget, comfort, luxury, adventure
  [0.8, 0.6, -0.3, -1.2, 0.7],
  [0.6, 0.7, 0.0, -0.9, 0.3],
  [-0.3, 0.0, 0.5, 0.4, -0.4],
  [-1.2, -0.9, 0.4, 0.9, -0.7],
  [0.7, 0.3, -0.4, -0.7, 0.9],
];

/**
 * The hidden preference process: how much two travellers would enjoy
 * travelling together. Symmetric. Uses latent taste and personality (which
 * the app only sees indirectly, through declared interests and bios), the
 * style table above, distance, age acceptance and shared trips.
 */
export function hiddenAffinity(a: PopulationMember, b: PopulationMember): number {
  const ta = a.latent.taste;
  const tb = b.latent.taste;
  let taste = 0;
  for (let k = 0; k < ta.length; k++) taste += ta[k] * tb[k];
  const ea = a.latent.extraversion;
  const eb = b.latent.extraversion;
  const A = a.traveller;
  const B = b.traveller;
  const km = haversineKm(A.latitude, A.longitude, B.latitude, B.longitude);
  const outside = (x: Traveller, y: Traveller) => (y.age < x.minAcceptedAge || y.age > x.maxAcceptedAge ? 1 : 0);
  const sharedTrip = A.trips.some((t) =>
    B.trips.some((u) => t.destination === u.destination && t.startDay <= u.endDay && u.startDay <= t.endDay),
  );
  const needsShared = A.needs.filter((n) => B.needs.includes(n)).length;
  return (
    2.4 * taste -
    1.2 +
    STYLE_AFFINITY[TRAVEL_STYLES.indexOf(A.travelStyle)][TRAVEL_STYLES.indexOf(B.travelStyle)] +
    0.9 * (1 - Math.abs(ea - eb)) -
    0.45 +
    0.4 * ea * eb -
    0.5 * Math.log1p(km / 25) -
    1.8 * (outside(A, B) + outside(B, A)) +
    (sharedTrip ? 1.1 : 0) +
    0.35 * needsShared
  );
}

/**
 * Who was shown whom and what they did: each traveller sees mostly nearby
 * travellers (as an app would show), decides with noise and their own
 * pickiness; a like is answered by the other side, and two likes make a match,
 * often followed by a message.
 */
export function* generateInteractions(
  members: readonly PopulationMember[],
  options: { seed: number; shownPerUser: number },
): Generator<Interaction> {
  const r = new Random(options.seed ^ 0x5bd1e995);
  const byCity = new Map<string, number[]>();
  members.forEach((m, i) => {
    const list = byCity.get(m.traveller.city) ?? [];
    list.push(i);
    byCity.set(m.traveller.city, list);
  });
  const decide = (from: PopulationMember, _to: PopulationMember, affinity: number) =>
    r.next() < sigmoid(affinity + 0.3 - from.latent.pickiness + 0.6 * r.gaussian());
  for (let i = 0; i < members.length; i++) {
    const a = members[i];
    const local = byCity.get(a.traveller.city)!;
    const seen = new Set<number>([i]);
    for (let k = 0; k < options.shownPerUser; k++) {
      const j = r.next() < 0.8 && local.length > 1 ? local[Math.floor(r.next() * local.length)] : Math.floor(r.next() * members.length);
      if (seen.has(j)) continue;
      seen.add(j);
      const b = members[j];
      const day = POPULATION_EPOCH_DAY - 120 + r.int(0, 119);
      const affinity = hiddenAffinity(a, b);
      if (!decide(a, b, affinity)) {
        yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "pass", day };
        continue;
      }
      yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "like", day };
      const answer = day + r.int(0, 3);
      if (!decide(b, a, affinity)) {
        yield { fromId: b.traveller.id, toId: a.traveller.id, kind: "pass", day: answer };
        continue;
      }
      yield { fromId: b.traveller.id, toId: a.traveller.id, kind: "like", day: answer };
      yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "match", day: answer };
      if (r.next() < 0.6) yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "message", day: answer + r.int(0, 5) };
    }
  }
}

/** One example per pair shown: did it become a match? */
export interface LabelledPair {
  a: string;
  b: string;
  matched: boolean;
}

export function labelledPairs(interactions: Iterable<Interaction>): LabelledPair[] {
  const pairs = new Map<string, LabelledPair>();
  for (const it of interactions) {
    if (it.kind === "message") continue;
    const [a, b] = it.fromId < it.toId ? [it.fromId, it.toId] : [it.toId, it.fromId];
    const key = `${a}|${b}`;
    const p = pairs.get(key) ?? { a, b, matched: false };
    if (it.kind === "match") p.matched = true;
    pairs.set(key, p);
  }
  return [...pairs.values()];
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
