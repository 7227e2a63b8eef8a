import type { LabelledPrompt } from "./prompts.js";

/**
 * Prompts the prompt reader was developed and tuned on (the issue's own
 * examples among them). The held-out set (held-out-prompts.ts) was written
 * once, before the gate was first run, and is never tuned on.
 */
export const DEVELOPMENT_PROMPTS: readonly LabelledPrompt[] = [
  { text: "Looking for hiking enthusiasts", interests: ["hiking"], request: { ageRangeYears: [25, 35] } },
  { text: "hikers", interests: ["hiking"] },
  { text: "anyone up for trekking?", interests: ["hiking"] },
  { text: "want to hike this weekend", interests: ["hiking"] },
  { text: "scuba buddies", interests: ["diving"] },
  { text: "foodies", interests: ["food"] },
  { text: "ski trip", interests: ["skiing"] },
  { text: "someone to go to galleries with", interests: ["art"] },
  { text: "beach lovers", interests: ["beach"] },
  { text: "party people for the weekend", interests: ["nightlife"] },
  { text: "live music fans", interests: ["music"] },
  { text: "photographers", interests: ["photography"] },
  { text: "wine tasting companions", interests: ["wine"] },
  { text: "yoga and meditation", interests: ["wellness"] },
  { text: "museum hopping", interests: ["museums"] },
  { text: "history buffs", interests: ["history"] },
  { text: "cooking classes together", interests: ["cuisine"] },
  { text: "adventurous travellers", interests: ["adventure"] },
  { text: "hikers in their thirties", interests: ["hiking"], ages: [30, 39] },
  { text: "divers aged 25-35", interests: ["diving"], ages: [25, 35] },
  { text: "foodies in Lisbon", interests: ["food"], place: "Lisbon" },
  { text: "skiers near Tokyo", interests: ["skiing"], place: "Tokyo" },
  { text: "art and wine lovers", interests: ["art", "wine"] },
  { text: "shopping in Paris, early twenties", interests: ["shopping"], place: "Paris", ages: [20, 23] },
  { text: "festival goers between 20 and 30", interests: ["festivals"], ages: [20, 30] },
  { text: "nature lovers over 40", interests: ["nature"], ages: [41, 120] },
  { text: "architecture fans", interests: ["architecture"] },
  { text: "culture seekers under 30", interests: ["culture"], ages: [18, 29] },
];
