// Distances on the Earth's surface: matching, search and recommendation all measure in great-circle kilometres.

/** Mean Earth radius (IUGG), in kilometres. */
export const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in kilometres. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A latitude/longitude box that contains every point within `km` of the centre (for an indexed prefilter). */
export function boundingBox(lat: number, lon: number, km: number): { minLat: number; maxLat: number; minLon: number; maxLon: number } {
  const dLat = km / 111.195;
  const minLat = Math.max(-90, lat - dLat);
  const maxLat = Math.min(90, lat + dLat);
  const cos = Math.cos((Math.max(Math.abs(minLat), Math.abs(maxLat)) * Math.PI) / 180);
  const dLon = cos < 1e-6 ? 180 : Math.min(180, km / (111.195 * cos));
  return { minLat, maxLat, minLon: lon - dLon, maxLon: lon + dLon };
}
