import { INTERESTS, NEEDS, OUTGOING_WORDS, RESERVED_WORDS, TRAVEL_STYLES } from "../../travellers/index.js";
import { haversineKm } from "../../numeric/geography.js";
import type { WithTextParts } from "./text-parts.js";
import { cosine, DenseVector, vectorize, type SparseVector } from "./text-vectors.js";

/** Who and where a traveller is, and whom they accept: the same in a profile and in its features. */
interface TravellerBasics {
  id: string;
  age: number;
  minAcceptedAge: number;
  maxAcceptedAge: number;
  latitude: number;
  longitude: number;
}

/** What scoring needs of one traveller, computed once and cached (in process and in Redis). */
export interface ProfileFeatures extends TravellerBasics, WithTextParts {
  interests: number;
  needs: number;
  /** Index in TRAVEL_STYLES, or -1 when unknown. */
  style: number;
  /** 1 outgoing, 0 reserved, 0.5 unknown: read from the bio's wording. */
  outgoing: number;
  bio: SparseVector;
  prompt: SparseVector;
  /** Everything the traveller wrote or declared, for matching against another's prompt. */
  document: SparseVector;
  trips: { destination: string; startDay: number; endDay: number }[];
  /**
   * The traveller's text vector (see traveller-vector.ts), its 100 int8 bytes
   * in base64: cheap to carry through both cache levels as JSON, decoded only
   * for the candidates a search compares by text. Absent until computed.
   */
  embedding?: string;
  /**
   * Set by the profile store (store/profile-columns.ts), which builds a new
   * object on every read: a number that changes whenever the traveller's
   * stored features do, so the prediction cache can tell versions apart.
   * Profiles without it are told apart by object identity.
   */
  revision?: number;
}

export interface ProfileInput extends TravellerBasics {
  interests: readonly string[];
  needs: readonly string[];
  travelStyle: string;
  bio: string;
  promptAnswers: readonly string[];
  trips: readonly { destination: string; startDay: number; endDay: number }[];
}

export interface MatchContextInput {
  destination?: string;
  startDay?: number;
  endDay?: number;
  interests?: readonly string[];
}

export const FEATURE_NAMES = [
  "interests",
  "needs",
  "bio",
  "distance",
  "log_distance",
  "age",
  "age_both",
  "prompt",
  "trip_overlap",
  "same_style",
  ...pairNames(),
  "personality",
  "both_outgoing",
  "age_gap",
  "context_interests",
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

function pairNames(): string[] {
  const names: string[] = [];
  for (let i = 0; i < TRAVEL_STYLES.length; i++) {
    for (let j = i; j < TRAVEL_STYLES.length; j++) names.push(`style:${TRAVEL_STYLES[i]}+${TRAVEL_STYLES[j]}`);
  }
  return names;
}

const STYLE_PAIR_OFFSET = FEATURE_NAMES.indexOf("same_style") + 1;

/** The bio, prompt and whole-profile text vectors, in that order (what text-features.ts stores). */
export function textVectorsOf(p: ProfileInput, idf: Float32Array): [SparseVector, SparseVector, SparseVector] {
  return [
    vectorize(p.bio, idf),
    vectorize(p.promptAnswers.join(". "), idf),
    vectorize(`${p.bio} ${p.promptAnswers.join(" ")} ${p.interests.join(" ")}`, idf),
  ];
}

export function profileFeatures(p: ProfileInput, idf: Float32Array): ProfileFeatures {
  return assembleProfile(p, textVectorsOf(p, idf));
}

/** A profile's features from its fields and its stored text vectors. */
export function assembleProfile(p: Omit<ProfileInput, "promptAnswers">, [bio, prompt, document]: readonly SparseVector[]): ProfileFeatures {
  const bioLower = p.bio.toLowerCase();
  const outgoing = OUTGOING_WORDS.some((w) => bioLower.includes(w)) ? 1 : RESERVED_WORDS.some((w) => bioLower.includes(w)) ? 0 : 0.5;
  return {
    id: p.id,
    age: p.age,
    minAcceptedAge: p.minAcceptedAge,
    maxAcceptedAge: p.maxAcceptedAge,
    latitude: p.latitude,
    longitude: p.longitude,
    interests: bitmask(p.interests, INTERESTS),
    needs: bitmask(p.needs, NEEDS),
    style: Math.max(0, TRAVEL_STYLES.indexOf(p.travelStyle as (typeof TRAVEL_STYLES)[number])),
    outgoing,
    bio,
    prompt,
    document,
    trips: p.trips.map((t) => ({ destination: t.destination, startDay: t.startDay, endDay: t.endDay })),
  };
}

/**
 * The text vectors of the profile that leads a run of pairs (ScoreCandidates'
 * traveller, a search's searcher: the same object against every candidate),
 * spread out once for the run: three TF-IDF cosines a pair then walk only
 * the candidate's entries. Spread on a profile's second pair in a row, so a
 * run of pairs that each change both sides (training, batched ScoreMatch)
 * keeps the merge.
 */
class LeadVectors {
  readonly bio = new DenseVector();
  readonly prompt = new DenseVector();
  readonly document = new DenseVector();
  private lead: ProfileFeatures | undefined;
  private last: ProfileFeatures | undefined;

  /** This object, holding `a`'s vectors, or undefined when `a` does not lead a run (yet). */
  of(a: ProfileFeatures): LeadVectors | undefined {
    if (this.lead === a) return this;
    if (this.last !== a) {
      this.last = a;
      return undefined;
    }
    this.bio.hold(a.bio);
    this.prompt.hold(a.prompt);
    this.document.hold(a.document);
    this.lead = a;
    return this;
  }
}

const leads = new LeadVectors();

/**
 * The pair's feature vector, symmetric by construction (every feature is a
 * symmetric function of the two profiles), so score(a, b) = score(b, a)
 * exactly, whatever the model learns.
 */
export function pairFeatures(
  a: ProfileFeatures,
  b: ProfileFeatures,
  context: MatchContextInput | undefined,
  out: Float32Array,
  offset = 0,
): void {
  const o = offset;
  out.fill(0, o, o + FEATURE_COUNT);
  out[o + 0] = jaccard(a.interests, b.interests);
  out[o + 1] = jaccard(a.needs, b.needs);
  const lead = leads.of(a);
  out[o + 2] = lead ? lead.bio.cosine(b.bio) : cosine(a.bio, b.bio);
  const km = haversineKm(a.latitude, a.longitude, b.latitude, b.longitude);
  out[o + 3] = Math.exp(-km / 50);
  out[o + 4] = Math.log1p(km) / 10;
  const ab = acceptance(a, b.age);
  const ba = acceptance(b, a.age);
  out[o + 5] = (ab + ba) / 2;
  out[o + 6] = ab * ba;
  out[o + 7] = lead
    ? (lead.prompt.cosine(b.document) + lead.document.cosine(b.prompt)) / 2
    : (cosine(a.prompt, b.document) + cosine(b.prompt, a.document)) / 2;
  out[o + 8] = tripOverlap(a, b, context);
  // A style of -1 is unknown (a search by prompt alone): no style features.
  if (a.style >= 0 && b.style >= 0) {
    out[o + 9] = a.style === b.style ? 1 : 0;
    out[o + STYLE_PAIR_OFFSET + stylePairIndex(a.style, b.style)] = 1;
  }
  const after = STYLE_PAIR_OFFSET + (TRAVEL_STYLES.length * (TRAVEL_STYLES.length + 1)) / 2;
  out[o + after] = 1 - Math.abs(a.outgoing - b.outgoing);
  out[o + after + 1] = a.outgoing * b.outgoing;
  out[o + after + 2] = Math.min(1, Math.abs(a.age - b.age) / 50);
  if (context?.interests?.length) {
    const wanted = bitmask(context.interests, INTERESTS);
    out[o + after + 3] = (jaccard(a.interests, wanted) + jaccard(b.interests, wanted)) / 2;
  }
}

/** The predecessor's six factors, as its weighted sum used them (each in [0, 1]). */
export function predecessorFactors(x: Float32Array, offset = 0) {
  return {
    interests: x[offset + 0],
    needs: x[offset + 1],
    bio: x[offset + 2],
    distance: x[offset + 3],
    age: x[offset + 5],
    prompt: clamp01(x[offset + 7]),
  };
}

export function personalityFactor(x: Float32Array, offset = 0): number {
  return x[offset + STYLE_PAIR_OFFSET + (TRAVEL_STYLES.length * (TRAVEL_STYLES.length + 1)) / 2];
}

export function stylePairIndex(i: number, j: number): number {
  const [lo, hi] = i <= j ? [i, j] : [j, i];
  const n = TRAVEL_STYLES.length;
  return lo * n - (lo * (lo - 1)) / 2 + (hi - lo);
}

function acceptance(viewer: ProfileFeatures, age: number): number {
  if (age >= viewer.minAcceptedAge && age <= viewer.maxAcceptedAge) return 1;
  const off = age < viewer.minAcceptedAge ? viewer.minAcceptedAge - age : age - viewer.maxAcceptedAge;
  return Math.exp(-off / 2);
}

function tripOverlap(a: ProfileFeatures, b: ProfileFeatures, context: MatchContextInput | undefined): number {
  let best = 0;
  for (const t of a.trips) {
    for (const u of b.trips) {
      if (t.destination !== u.destination) continue;
      best = Math.max(best, t.startDay <= u.endDay && u.startDay <= t.endDay ? 1 : 0.5);
    }
  }
  if (context?.destination) {
    const dest = context.destination.toLowerCase();
    const plans = (p: ProfileFeatures) =>
      p.trips.some(
        (t) =>
          t.destination.toLowerCase() === dest &&
          (context.startDay === undefined || (t.startDay <= (context.endDay ?? context.startDay) && context.startDay <= t.endDay)),
      );
    if (plans(a) && plans(b)) best = 1;
    else if (plans(a) || plans(b)) best = Math.max(best, 0.25);
  }
  return best;
}

function bitmask(values: readonly string[], vocabulary: readonly string[]): number {
  let m = 0;
  for (const v of values) {
    const i = vocabulary.indexOf(v);
    if (i >= 0) m |= 1 << i;
  }
  return m;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function jaccard(a: number, b: number): number {
  const union = popcount(a | b);
  return union ? popcount(a & b) / union : 0;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
