import type { Interest } from "./interests.js";

/** What travellers say they need from a companion. */
export const NEEDS = [
  "travel buddy",
  "local guide",
  "photography partner",
  "budget sharing",
  "language exchange",
  "hiking partner",
  "foodie companion",
  "nightlife crew",
  "road trip partner",
  "culture companion",
] as const;

export const TRAVEL_STYLES = ["backpacker", "budget", "comfort", "luxury", "adventure"] as const;
export type TravelStyle = (typeof TRAVEL_STYLES)[number];

/** Words a bio uses for each interest, so text similarity reflects interests without copying them. */
export const INTEREST_WORDS: Record<Interest, readonly string[]> = {
  art: ["galleries", "painting", "street art", "sketching"],
  food: ["street food", "markets", "tasting menus", "local dishes"],
  beach: ["beaches", "surfing", "sunsets by the sea", "island hopping"],
  hiking: ["trails", "mountains", "long hikes", "summits"],
  nightlife: ["bars", "clubs", "late nights", "live DJs"],
  culture: ["local traditions", "temples", "festivals", "old towns"],
  history: ["ruins", "castles", "old battlefields", "archives"],
  music: ["concerts", "jazz clubs", "vinyl shops", "open mics"],
  photography: ["my camera", "golden hour", "portraits", "landscapes"],
  diving: ["reefs", "scuba", "wrecks", "freediving"],
  skiing: ["powder days", "ski resorts", "backcountry", "snowboarding"],
  wine: ["vineyards", "wine bars", "natural wine", "cellar tours"],
  architecture: ["buildings", "cathedrals", "modernism", "city walks"],
  nature: ["forests", "national parks", "wildlife", "lakes"],
  shopping: ["boutiques", "flea markets", "design stores", "vintage finds"],
  festivals: ["music festivals", "carnivals", "parades", "open-air events"],
  wellness: ["yoga", "spas", "meditation", "slow mornings"],
  adventure: ["bungee jumps", "rafting", "paragliding", "off the beaten path"],
  cuisine: ["cooking classes", "chef's tables", "regional recipes", "food tours"],
  museums: ["museums", "exhibitions", "collections", "science centres"],
};

export const STYLE_WORDS: Record<TravelStyle, readonly string[]> = {
  backpacker: ["hostels", "one backpack", "overnight buses"],
  budget: ["cheap eats", "saving money", "free walking tours"],
  comfort: ["nice hotels", "good coffee", "easy trips"],
  luxury: ["five-star hotels", "fine dining", "business class"],
  adventure: ["tents", "wild camping", "remote places"],
};

/**
 * Words for a traveller's pace, a trait no profile field holds: each bio says it in two words drawn from
 * these pools (calm or lively, each word leaning with the trait). Many words to a pole, so two
 * travellers of the same pace rarely write the same word (word-for-word text matching misses it) while
 * the word vectors place each pool's words together.
 */
export const PACE_WORDS = {
  calm: words(
    "calm quiet peaceful relaxed gentle serene leisurely unhurried tranquil lazy slow cozy mellow soothing restful easygoing laidback sleepy idle lingering soft still placid sedate comfortable cosy restorative meditative contemplative dreamy",
  ),
  lively: words(
    "adrenaline thrill extreme intense wild crazy nonstop energetic hectic frantic fast buzzing exhilarating daring rush speed thrilling hardcore reckless furious fierce explosive electrifying rowdy bold feverish restless vigorous breakneck action",
  ),
} as const;

/** Words for how a traveller plans (another hidden trait), said in a prompt answer the same way as pace. */
export const PLANNING_WORDS = {
  planned: words(
    "itinerary schedule spreadsheet bookings checklist organised planned reservations timetable agenda prepared tickets organized booked scheduled reserved methodical punctual detailed meticulous advance planner calendar plan routine preparation logistics research budgeted timetables",
  ),
  spontaneous: words(
    "spontaneous improvise wander whim impulse serendipity unplanned flexible random drifting wherever instinct improvised impulsive aimless wandering carefree unscripted spur freewheeling roam roaming unpredictable hitchhiking detour surprise chance lucky wing sudden",
  ),
} as const;

function words(list: string): readonly string[] {
  return list.split(" ");
}

export const OUTGOING_WORDS = ["love meeting new people", "always up for a party", "talk to strangers everywhere"];
export const RESERVED_WORDS = ["enjoy quiet evenings", "prefer small groups", "like reading on trains"];

/** Popular trip destinations (names of real cities). */
export const DESTINATIONS = [
  "Paris",
  "Tokyo",
  "Lisbon",
  "Barcelona",
  "Rome",
  "Bangkok",
  "New York",
  "Mexico City",
  "Cape Town",
  "Istanbul",
  "Bali",
  "Reykjavik",
  "Marrakesh",
  "Buenos Aires",
  "Kyoto",
  "Berlin",
  "Prague",
  "Hanoi",
  "Sydney",
  "Lima",
] as const;
