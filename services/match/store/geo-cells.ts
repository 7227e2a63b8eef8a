/**
 * Quarter-degree cells, numbered as the travellers.geo_cell column numbers
 * them (migration 0120): row by row of latitude, 1441 numbers per row so
 * longitude 180 has a cell of its own.
 */
const PER_DEGREE = 4;
const ROW = 360 * PER_DEGREE + 1;

export function geoCell(latitude: number, longitude: number): number {
  return Math.floor((latitude + 90) * PER_DEGREE) * ROW + Math.floor((longitude + 180) * PER_DEGREE);
}

/**
 * The cells of a latitude/longitude box as ranges of cell numbers, one per
 * row of latitude and longitude range (two where the box crosses the
 * antimeridian): every point inside the box has a cell in one of them.
 */
export function cellRanges(box: { minLat: number; maxLat: number; lonRanges: readonly (readonly [number, number])[] }): {
  lo: number[];
  hi: number[];
} {
  const lo: number[] = [];
  const hi: number[] = [];
  const first = Math.floor((box.minLat + 90) * PER_DEGREE);
  const last = Math.floor((box.maxLat + 90) * PER_DEGREE);
  for (let row = first; row <= last; row++) {
    for (const [minLon, maxLon] of box.lonRanges) {
      lo.push(row * ROW + Math.floor((minLon + 180) * PER_DEGREE));
      hi.push(row * ROW + Math.floor((maxLon + 180) * PER_DEGREE));
    }
  }
  return { lo, hi };
}
