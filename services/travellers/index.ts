/**
 * The travellers every service speaks of: their profile as the app stores
 * it, the words they use (interests, needs, travel styles), and the
 * synthetic population that seeds, trains and evaluates the models. The
 * other areas import travellers from here, and only from here.
 */
export { INTERESTS, type Interest } from "./interests.js";
export { generatePopulation, POPULATION_EPOCH_DAY, type LatentTraits, type PopulationMember } from "./population.js";
export type { Traveller, Trip } from "./profile.js";
export { INTEREST_WORDS, NEEDS, OUTGOING_WORDS, RESERVED_WORDS, TRAVEL_STYLES, type TravelStyle } from "./vocabulary.js";
