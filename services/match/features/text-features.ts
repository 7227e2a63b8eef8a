import type { SparseVector } from "./text-vectors.js";

/**
 * The three text vectors of a profile in a compact binary form, written next
 * to the profile so that scoring never re-tokenises a bio: per vector a
 * uint16 count, then uint16 bucket indices and float32 weights.
 */
export function encodeTextFeatures(vectors: readonly SparseVector[]): Uint8Array {
  const size = vectors.reduce((a, v) => a + 2 + v.indices.length * 6, 0);
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  let o = 0;
  for (const v of vectors) {
    view.setUint16(o, v.indices.length, true);
    o += 2;
    for (let i = 0; i < v.indices.length; i++) {
      view.setUint16(o, v.indices[i], true);
      view.setFloat32(o + 2, v.values[i], true);
      o += 6;
    }
  }
  return new Uint8Array(buf);
}

export function decodeTextFeatures(bytes: Uint8Array, count: number): { indices: number[]; values: number[] }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { indices: number[]; values: number[] }[] = [];
  let o = 0;
  for (let k = 0; k < count; k++) {
    const n = view.getUint16(o, true);
    o += 2;
    const indices = new Array<number>(n);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      indices[i] = view.getUint16(o, true);
      values[i] = view.getFloat32(o + 2, true);
      o += 6;
    }
    out.push({ indices, values });
  }
  return out;
}
