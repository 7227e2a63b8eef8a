import { INTEREST_WORDS, INTERESTS, type Interest } from "../../travellers/index.js";

/**
 * Words people use for each interest beyond its name and the words bios use
 * (travellers' INTEREST_WORDS): agent nouns, verbs and common synonyms. The
 * word vectors carry the rest (see interests.ts); this list makes the
 * frequent cases exact.
 */
const SYNONYMS: Record<Interest, readonly string[]> = {
  art: ["artist", "artsy", "painter", "paint", "gallery", "drawing", "sketch", "mural", "graffiti", "sculpture", "artwork"],
  food: ["foodie", "eat", "eating", "eater", "restaurant", "snack", "brunch", "dining", "gastronomy", "market"],
  beach: ["seaside", "coast", "coastal", "sand", "sunbathe", "surf", "surfer", "island", "swim", "swimming"],
  hiking: ["hike", "hiker", "trek", "trekking", "trekker", "trail", "mountain", "summit", "ramble", "backpacking"],
  nightlife: ["party", "partying", "club", "clubbing", "clubber", "bar", "pub", "dancing", "nightclub", "rave"],
  culture: ["cultural", "tradition", "traditional", "temple", "heritage", "custom", "local"],
  history: ["historical", "historic", "historian", "ruin", "castle", "ancient", "archaeology", "medieval", "heritage"],
  music: ["musician", "concert", "gig", "jazz", "band", "singer", "guitar", "song"],
  photography: ["photographer", "photo", "camera", "photograph", "shoot"],
  diving: ["dive", "diver", "scuba", "snorkel", "snorkeling", "snorkelling", "freedive", "reef", "underwater"],
  skiing: ["ski", "skier", "snowboard", "snowboarder", "snowboarding", "slope", "piste", "powder"],
  wine: ["vineyard", "winery", "sommelier", "vino", "oenophile", "winemaker"],
  architecture: ["architect", "architectural", "building", "cathedral", "skyscraper"],
  nature: ["outdoors", "outdoor", "wildlife", "forest", "park", "lake", "birdwatching", "countryside"],
  shopping: ["shop", "shopper", "boutique", "mall", "fashion", "vintage", "thrift"],
  festivals: ["festival", "carnival", "parade", "fest"],
  wellness: ["yoga", "spa", "meditation", "meditate", "retreat", "mindfulness", "wellbeing", "relaxation"],
  adventure: ["adventurous", "adventurer", "thrill", "extreme", "rafting", "paraglide", "paragliding", "bungee", "adrenaline", "skydive"],
  cuisine: ["cooking", "cook", "chef", "culinary", "recipe"],
  museums: ["museum", "exhibition", "exhibit"],
};

/**
 * Words that say who or how, never what: "hiking enthusiasts", "ski trip",
 * "travel buddies". They are neither interests nor evidence for one.
 */
export const GENERIC_WORDS = new Set([
  "look",
  "looking",
  "seek",
  "seeking",
  "want",
  "wanted",
  "need",
  "find",
  "meet",
  "join",
  "go",
  "going",
  "head",
  "heading",
  "like",
  "love",
  "lover",
  "enjoy",
  "appreciate",
  "admire",
  "admirer",
  "fan",
  "enthusiast",
  "buff",
  "junkie",
  "addict",
  "lover",
  "people",
  "person",
  "folk",
  "someone",
  "somebody",
  "anyone",
  "anybody",
  "guy",
  "girl",
  "man",
  "woman",
  "friend",
  "buddy",
  "partner",
  "companion",
  "mate",
  "crew",
  "group",
  "fellow",
  "traveller",
  "traveler",
  "travel",
  "travelling",
  "traveling",
  "trip",
  "holiday",
  "vacation",
  "weekend",
  "day",
  "time",
  "year",
  "old",
  "age",
  "aged",
  "together",
  "also",
  "good",
  "great",
  "big",
  "real",
  "keen",
  "passionate",
  "interested",
  "share",
  "wannabe",
  "goer",
  "seeker",
  "season",
  "live",
  "living",
  "base",
  "based",
  "early",
  "mid",
  "late",
  "km",
  "kilometre",
  "kilometer",
  "mile",
  "city",
  "town",
  "new",
  "explore",
  "exploring",
  "explorer",
  "watching",
  "watch",
  "taking",
  "take",
  "lot",
  "few",
  "near",
  "nearby",
  "around",
  "close",
  "within",
  "radius",
  // When, not what.
  "morning",
  "afternoon",
  "evening",
  "night",
  "tonight",
  "today",
  "tomorrow",
  "week",
  "month",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
  "summer",
  "spring",
  "autumn",
  "fall",
]);

/**
 * Everyday words a prompt may use that are no interest: a word read by its
 * vector counts for an interest only if it is nearer to that interest's cues
 * than to any of these and to the generic words ("house" is near
 * architecture's "buildings", but nearer to "home").
 */
export const EVERYDAY_WORDS = [
  "home",
  "house",
  "car",
  "money",
  "work",
  "job",
  "book",
  "phone",
  "game",
  "language",
  "family",
  "school",
  "student",
  "kids",
  "dog",
  "weather",
  "coffee",
  "chat",
  "fun",
  "easy",
  "nice",
  "table",
  "glass",
  "thing",
  "place",
  "stuff",
  // Walks of life a prompt may name beside an interest ("hikers who work in banking"): near some cue
  // (business and banking to food's "markets", an election to nightlife's "party"), but no interest.
  "business",
  "bank",
  "finance",
  "company",
  "office",
  "career",
  "professional",
  "politics",
  "election",
  "government",
  "law",
  "science",
  "technology",
  "sport",
  "football",
];

/** Interest by cue word (lower case): the interest's name, its single-word bio words, and the synonyms above. */
export function cueWords(): Map<string, Interest> {
  const cues = new Map<string, Interest>();
  for (const interest of INTERESTS) {
    const words = [interest, ...INTEREST_WORDS[interest].filter((w) => !w.includes(" ")), ...SYNONYMS[interest]];
    for (const w of words) {
      const key = w.toLowerCase();
      if (!cues.has(key) && !GENERIC_WORDS.has(key)) cues.set(key, interest);
    }
  }
  return cues;
}

/** Interest by two-word cue ("street food", "national parks"), from the bio words. */
export function cuePhrases(): Map<string, Interest> {
  const phrases = new Map<string, Interest>();
  for (const interest of INTERESTS) {
    for (const w of INTEREST_WORDS[interest]) if (w.split(" ").length === 2) phrases.set(w.toLowerCase(), interest);
  }
  phrases.set("live music", "music");
  phrases.set("night out", "nightlife");
  return phrases;
}
