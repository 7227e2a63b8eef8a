import { FEATURE_COUNT, FEATURE_NAMES, pairFeatures, type MatchContextInput, type ProfileFeatures } from "./pair-features.js";
import { partSimilarities } from "./text-parts.js";

/** Which features a match model reads: each registry version names its set (metadata.featureSet). */
export type FeatureSetName = "v1" | "v2";

/** A model's input row: its names, and how a pair's row is written. */
export interface FeatureSet {
  name: FeatureSetName;
  names: readonly string[];
  count: number;
  /** Writes the pair's row at `offset` of `out` (count values), symmetric in a and b. */
  write(a: ProfileFeatures, b: ProfileFeatures, context: MatchContextInput | undefined, out: Float32Array, offset: number): void;
}

/** v1: the symmetric pair features (TF-IDF bio and prompt cosines among them). */
export const FEATURES_V1: FeatureSet = {
  name: "v1",
  names: FEATURE_NAMES,
  count: FEATURE_COUNT,
  write: pairFeatures,
};

/** v2's names: v1's, then the two word-vector similarities. */
export const FEATURE_NAMES_V2: readonly string[] = [...FEATURE_NAMES, "bio_embedding", "prompt_embedding"];

/**
 * v2: v1's row, then the word-vector cosines of the two bios and of the two
 * travellers' prompt answers, each part centred on `centre` (the training
 * profiles' mean parts, stored with the model; text-parts.ts). v1's features
 * keep their places, so explanations read a v2 row as they read a v1 row.
 */
export function featuresV2(centre: Float32Array): FeatureSet {
  return {
    name: "v2",
    names: FEATURE_NAMES_V2,
    count: FEATURE_COUNT + 2,
    write(a, b, context, out, offset) {
      pairFeatures(a, b, context, out, offset);
      const [bio, answers] = partSimilarities(a, b, centre);
      out[offset + FEATURE_COUNT] = bio;
      out[offset + FEATURE_COUNT + 1] = answers;
    },
  };
}
