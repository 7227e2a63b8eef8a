import type { Interest } from "../../../travellers/index.js";

/**
 * A prompt of the search evaluation and what it truly asks for, written by
 * hand: the relevance labels come from these fields and the population's
 * declared interests, never from the search's own reading of the text.
 */
export interface LabelledPrompt {
  text: string;
  /** Every one of these must be among a traveller's declared interests for them to be relevant. */
  interests: readonly Interest[];
  /** The age range the text asks for in words, if any. */
  ages?: readonly [number, number];
  /** The city the text names, if any (the search must find it in the text; the request gives no location). */
  place?: string;
  /** Structured fields sent with the prompt; they win over the text. */
  request?: { ageRangeYears?: readonly [number, number]; maxDistanceKm?: number };
}
