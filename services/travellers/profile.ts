import type { Interest } from "./interests.js";
import type { TravelStyle } from "./vocabulary.js";

/** A planned trip, as a traveller declares it. */
export interface Trip {
  destination: string;
  /** Day numbers (days since 1970-01-01). */
  startDay: number;
  endDay: number;
}

/** A traveller as the app stores it: only what a user declares or the app knows. */
export interface Traveller {
  id: string;
  displayName: string;
  age: number;
  minAcceptedAge: number;
  maxAcceptedAge: number;
  latitude: number;
  longitude: number;
  city: string;
  interests: Interest[];
  needs: string[];
  travelStyle: TravelStyle;
  bio: string;
  promptAnswers: string[];
  trips: Trip[];
}
