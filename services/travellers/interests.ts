// The interest vocabulary shared by travellers, destinations and prompts.
// Matching, recommendation and the synthetic population all speak these words,
// so a traveller's declared interests line up with destination tags.
export const INTERESTS = [
  "art",
  "food",
  "beach",
  "hiking",
  "nightlife",
  "culture",
  "history",
  "music",
  "photography",
  "diving",
  "skiing",
  "wine",
  "architecture",
  "nature",
  "shopping",
  "festivals",
  "wellness",
  "adventure",
  "cuisine",
  "museums",
] as const;

export type Interest = (typeof INTERESTS)[number];
