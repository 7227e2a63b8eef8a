import { haversineKm } from "../numeric/geography.js";
import { Random } from "../numeric/random.js";
import { POPULATION_EPOCH_DAY, type PopulationMember, type Traveller } from "../travellers/index.js";

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

/** Days of interactions the generator spans, ending the day before the population's epoch. */
export const INTERACTION_DAYS = 120;
/** The first day of the interaction window. */
export const INTERACTION_START_DAY = POPULATION_EPOCH_DAY - INTERACTION_DAYS;

/** Share of like/pass decisions recorded as a coin flip whatever the affinity (mis-taps, bots, second thoughts). */
const LABEL_NOISE = 0.04;
/** How much alike pace (calm or lively) and planning (spontaneous or planned) add to a pair's affinity. */
const PACE_WEIGHT = 0.7;
const PLANNING_WEIGHT = 0.7;
/** Spread of each decision's own mood around the pair's affinity. */
const DECISION_NOISE = 0.6;

/**
 * The hidden preference process: how much two travellers would enjoy
 * travelling together, on day `day` of the synthetic calendar. Symmetric.
 * Deliberately not the model's features: it reads latent traits no profile
 * records (taste, extraversion, spend, roughness, each one's own reach and
 * real age tolerance), combines them nonlinearly (squared gaps, a per-traveller
 * distance threshold, a shared trip that counts more between outgoing people),
 * ignores declared needs, and drifts over the window (distance and shared
 * trips weigh more toward its end, spend less), so a model fitted on the
 * earlier weeks is judged on later ones it has not seen. Pace and planning
 * (alike get on, opposites grate) show only in the words people choose for
 * them, a few words of a bio and of a prompt answer drawn from wide pools
 * (population.ts voice): matching words one for one mostly misses them, word
 * vectors see them, and neither reads the trait itself.
 */
export function hiddenAffinity(a: PopulationMember, b: PopulationMember, day = INTERACTION_START_DAY): number {
  const drift = Math.min(1, Math.max(0, (day - INTERACTION_START_DAY) / INTERACTION_DAYS));
  const la = a.latent;
  const lb = b.latent;
  let taste = 0;
  for (let k = 0; k < la.taste.length; k++) taste += la.taste[k] * lb.taste[k];
  const A = a.traveller;
  const B = b.traveller;
  const logKm = Math.log1p(haversineKm(A.latitude, A.longitude, B.latitude, B.longitude));
  const tooFar = softplus(2 * (logKm - la.reach)) / 2 + softplus(2 * (logKm - lb.reach)) / 2;
  const refuses = (x: PopulationMember, y: Traveller) => {
    const slack = x.latent.ageSlack;
    const below = x.traveller.minAcceptedAge - slack - y.age;
    const above = y.age - x.traveller.maxAcceptedAge - slack;
    return sigmoid(1.5 * Math.max(below, above));
  };
  const sharedTrip = A.trips.some((t) =>
    B.trips.some((u) => t.destination === u.destination && t.startDay <= u.endDay && u.startDay <= t.endDay),
  );
  const lively = Math.max(0, la.extraversion + lb.extraversion - 1.1);
  return (
    3 * taste * taste +
    1.2 * Math.sqrt(Math.max(0, taste)) -
    0.7 -
    (0.55 - 0.25 * drift) * (la.spend - lb.spend) ** 2 +
    0.5 * Math.tanh(la.roughness * lb.roughness) -
    1.4 * (la.extraversion - lb.extraversion) ** 2 +
    1.1 * lively -
    (0.5 + 0.4 * drift) * tooFar -
    2 * (refuses(a, B) + refuses(b, A)) +
    (sharedTrip ? 0.3 + 0.5 * drift + 0.9 * Math.min(la.extraversion, lb.extraversion) : 0) +
    PACE_WEIGHT * la.pace * lb.pace +
    PLANNING_WEIGHT * la.planning * lb.planning
  );
}

/**
 * The truth's own probability that a pair shown on `day` becomes a match:
 * both sides like, each with their own pickiness and mood, through the label
 * noise. What a model that knew every hidden trait would predict: the best
 * achievable score, which evaluations report beside each model's.
 */
export function matchProbability(a: PopulationMember, b: PopulationMember, day: number): number {
  const affinity = hiddenAffinity(a, b, day);
  return likeProbability(a, affinity) * likeProbability(b, affinity);
}

// Standard normal quantiles at the midpoints of 32 equal-probability bins: E[f(Z)] by quadrature.
const NORMAL_NODES = Array.from({ length: 32 }, (_, i) => normalQuantile((i + 0.5) / 32));

function likeProbability(from: PopulationMember, affinity: number): number {
  const x = affinity + 0.3 - from.latent.pickiness;
  let mean = 0;
  for (const z of NORMAL_NODES) mean += sigmoid(x + DECISION_NOISE * z);
  return LABEL_NOISE / 2 + (1 - LABEL_NOISE) * (mean / NORMAL_NODES.length);
}

/**
 * Who was shown whom and what they did: each traveller sees mostly nearby
 * travellers (as an app would show), decides with noise and their own
 * pickiness (a few decisions are coin flips); a like is answered by the other
 * side, and two likes make a match, often followed by a message.
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
  const decide = (from: PopulationMember, affinity: number) => {
    if (r.next() < LABEL_NOISE) return r.next() < 0.5;
    return r.next() < sigmoid(affinity + 0.3 - from.latent.pickiness + DECISION_NOISE * r.gaussian());
  };
  // A pair is shown once: once one side has decided, the app does not show them to each other again.
  const shownPairs = new Set<number>();
  for (let i = 0; i < members.length; i++) {
    const a = members[i];
    const local = byCity.get(a.traveller.city)!;
    for (let k = 0; k < options.shownPerUser; k++) {
      const j = r.next() < 0.8 && local.length > 1 ? local[Math.floor(r.next() * local.length)] : Math.floor(r.next() * members.length);
      const pair = Math.min(i, j) * members.length + Math.max(i, j);
      if (i === j || shownPairs.has(pair)) continue;
      shownPairs.add(pair);
      const b = members[j];
      const day = INTERACTION_START_DAY + r.int(0, INTERACTION_DAYS - 1);
      const affinity = hiddenAffinity(a, b, day);
      if (!decide(a, affinity)) {
        yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "pass", day };
        continue;
      }
      yield { fromId: a.traveller.id, toId: b.traveller.id, kind: "like", day };
      const answer = day + r.int(0, 3);
      if (!decide(b, affinity)) {
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
  /** The day the pair was first shown (its first event), when known. */
  day?: number;
}

export function labelledPairs(interactions: Iterable<Interaction>): LabelledPair[] {
  const pairs = new Map<string, LabelledPair>();
  for (const it of interactions) {
    if (it.kind === "message") continue;
    const [a, b] = it.fromId < it.toId ? [it.fromId, it.toId] : [it.toId, it.fromId];
    const key = `${a}|${b}`;
    const p = pairs.get(key) ?? { a, b, matched: false, day: it.day };
    if (it.kind === "match") p.matched = true;
    if (p.day === undefined || it.day < p.day) p.day = it.day;
    pairs.set(key, p);
  }
  return [...pairs.values()];
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
