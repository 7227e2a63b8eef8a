import { haversineKm } from "../numeric/geography.js";
import type { CostLevel, Destination } from "./catalogue.js";
import { inSeason } from "./seasons.js";

export type TripLength = "weekend" | "week" | "month";

export interface TripFilters {
  /** The most expensive cost level accepted. */
  maxCost?: CostLevel;
  length?: TripLength;
  /** Month of departure, 1-12. */
  month?: number;
  includeVisited: boolean;
}

/**
 * How far a trip of each length reasonably goes: a weekend leaves room for a
 * short flight or a train, a week for a long-haul flight but not for the
 * antipodes and back; a month goes anywhere.
 */
export const REACH_KM: Record<TripLength, number> = { weekend: 1_500, week: 9_000, month: Infinity };

export interface Traveller {
  latitude: number;
  longitude: number;
  booked: ReadonlySet<string>;
}

export function admits(d: Destination, f: TripFilters, t: Traveller): boolean {
  if (f.maxCost !== undefined && d.costLevel > f.maxCost) return false;
  if (f.month !== undefined && !inSeason(d.goodMonths, f.month)) return false;
  if (!f.includeVisited && t.booked.has(d.id)) return false;
  if (
    f.length !== undefined &&
    REACH_KM[f.length] !== Infinity &&
    haversineKm(t.latitude, t.longitude, d.latitude, d.longitude) > REACH_KM[f.length]
  )
    return false;
  return true;
}

/** The month of a "YYYY-MM-DD" date, undefined for an empty one. */
export function monthOfDate(date: string): number | undefined {
  return date ? Number(date.slice(5, 7)) : undefined;
}
