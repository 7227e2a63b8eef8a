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
