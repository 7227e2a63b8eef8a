import type { Factorisation } from "./factorisation.js";

/** What the registry's metadata holds beside the artefact bytes. */
export interface ArtefactMetadata {
  kind: "implicit-als";
  dim: number;
  lambda: number;
  alpha: number;
  features: number;
  /** The catalogue order the item vectors follow. */
  destinationIds: string[];
  /** The hyperparameters given to training (absent on versions trained before they were recorded). */
  parameters?: Record<string, number>;
}

/**
 * The factorisation as registry bytes: item vectors (float32), then the item
 * Gram matrix and the interest map (float64), little-endian as typed arrays
 * are on every platform Node runs on.
 */
export function encodeFactorisation(
  model: Factorisation,
  destinationIds: readonly string[],
): { artefact: Uint8Array; metadata: ArtefactMetadata } {
  const parts = [model.items, model.itemGram, model.interestMap];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  return {
    artefact: bytes,
    metadata: {
      kind: "implicit-als",
      dim: model.dim,
      lambda: model.lambda,
      alpha: model.alpha,
      features: model.features,
      destinationIds: [...destinationIds],
    },
  };
}

export function decodeFactorisation(artefact: Uint8Array, meta: ArtefactMetadata): Factorisation {
  const d = meta.dim;
  const sizes = { items: meta.destinationIds.length * d * 4, gram: d * d * 8, map: (meta.features + 1) * d * 8 };
  if (artefact.byteLength !== sizes.items + sizes.gram + sizes.map) {
    throw new Error(
      `recommendation artefact has ${artefact.byteLength} bytes; its metadata describes ${sizes.items + sizes.gram + sizes.map}`,
    );
  }
  // Copies, so the typed arrays are aligned whatever the buffer's offset.
  const slice = (from: number, length: number) => artefact.slice(from, from + length).buffer;
  return {
    dim: d,
    lambda: meta.lambda,
    alpha: meta.alpha,
    features: meta.features,
    items: new Float32Array(slice(0, sizes.items)),
    itemGram: new Float64Array(slice(sizes.items, sizes.gram)),
    interestMap: new Float64Array(slice(sizes.items + sizes.gram, sizes.map)),
  };
}
