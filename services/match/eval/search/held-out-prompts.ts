import type { LabelledPrompt } from "./prompts.js";

/**
 * Held out from development: written once, before `make eval-search` first
 * ran, and never changed to make the gate pass. Paraphrases, plurals,
 * synonyms, and ages and places in words that the development set does not
 * use.
 */
export const HELD_OUT_PROMPTS: readonly LabelledPrompt[] = [
  { text: "Who wants to go trail running and climb a few peaks?", interests: ["hiking"] },
  { text: "Mountain walkers wanted", interests: ["hiking"] },
  { text: "snorkelers and reef explorers", interests: ["diving"] },
  { text: "Need a dive partner for the weekend", interests: ["diving"] },
  { text: "gourmets who like eating out", interests: ["food"] },
  { text: "street food crawl anyone?", interests: ["food"] },
  { text: "snowboarders heading to the slopes", interests: ["skiing"] },
  { text: "Painters and sketchers", interests: ["art"] },
  { text: "surfers", interests: ["beach"] },
  { text: "clubbers for a big night out", interests: ["nightlife"] },
  { text: "concert goers and jazz fans", interests: ["music"] },
  { text: "someone with a camera who loves taking pictures", interests: ["photography"] },
  { text: "vineyard tours, somebody who appreciates a good red", interests: ["wine"] },
  { text: "spa days and relaxing retreats", interests: ["wellness"] },
  { text: "people who enjoy exhibitions", interests: ["museums"] },
  { text: "exploring ancient ruins and castles", interests: ["history"] },
  { text: "chefs and home cooks", interests: ["cuisine"] },
  { text: "thrill seekers: rafting, paragliding", interests: ["adventure"] },
  { text: "wildlife watching in national parks", interests: ["nature"] },
  { text: "flea markets and boutiques", interests: ["shopping"] },
  { text: "carnival season crew", interests: ["festivals"] },
  { text: "temples and local traditions", interests: ["culture"] },
  { text: "admirers of old cathedrals and modern buildings", interests: ["architecture"] },
  { text: "trekkers in their late twenties", interests: ["hiking"], ages: [27, 29] },
  { text: "scuba divers in their forties", interests: ["diving"], ages: [40, 49] },
  { text: "people aged thirty to forty who love skiing", interests: ["skiing"], ages: [30, 40] },
  { text: "photographers in their mid 30s", interests: ["photography"], ages: [33, 36] },
  { text: "foodies living in Bangkok", interests: ["food"], place: "Bangkok" },
  { text: "hikers around Kyoto", interests: ["hiking"], place: "Kyoto" },
  { text: "beach bums near Sydney", interests: ["beach"], place: "Sydney" },
  { text: "art lovers based in Berlin, twenty-five to thirty-five", interests: ["art"], place: "Berlin", ages: [25, 35] },
  { text: "museum-goers in Mexico City", interests: ["museums"], place: "Mexico City" },
  { text: "wine and food people", interests: ["wine", "food"] },
  { text: "divers who also love photography", interests: ["diving", "photography"] },
  { text: "hikers in their thirties", interests: ["hiking"], ages: [30, 39], request: { ageRangeYears: [25, 35] } },
];
