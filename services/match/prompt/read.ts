import type { Interest } from "../../travellers/index.js";
import { loadLanguage, type Language, type Word } from "../text/language.js";
import { agesIn } from "./ages.js";
import { GENERIC_WORDS } from "./interest-lexicon.js";
import { InterestReader, type InterestMatch } from "./interests.js";
import { digitsForWords } from "./numbers.js";
import { placeIn, type Place } from "./places.js";

/** What a free-text prompt asks for. */
export interface ReadPrompt {
  /** Interests asked for, each with the words that asked. */
  interests: InterestMatch[];
  /** An age range given in the text ("25-35", "in their thirties"). */
  ages?: [number, number];
  /** A city named after a word of place ("in Lisbon", "near Kyoto"). */
  place?: Place;
  /** A radius given in the text ("within 20 km"), in kilometres. */
  km?: number;
  /** The words that say what (not who, where or what age): what the prompt's vector is made of. */
  content: string[];
}

/** Reads prompts: words and lemmas (wink-nlp), interests (lexicon, stems, word vectors), ages, places, radius. */
export class PromptReader {
  private constructor(
    private readonly language: Language,
    private readonly interests: InterestReader,
  ) {}

  static async load(): Promise<PromptReader> {
    const language = await loadLanguage();
    return new PromptReader(language, new InterestReader(language));
  }

  get vectors() {
    return this.language.vectors;
  }

  read(prompt: string): ReadPrompt {
    const words = this.language.words(prompt);
    const ages = agesIn(prompt);
    const place = placeIn(prompt, (w) => (this.language.vectors.rank(w) ?? Number.POSITIVE_INFINITY) < 20_000);
    const skip = new Set<number>();
    const taken = [...(ages ? words_(ages.match) : []), ...(place ? words_(place.match) : [])];
    words.forEach((w, i) => {
      if (taken.includes(w.lower) || /\d/.test(w.lower)) skip.add(i);
    });
    // What the prompt declines ("not into nightlife", "anything except skiing") is not asked for.
    for (const i of declined(words, skip)) skip.add(i);
    const interests = this.interests.read(words, skip);
    const content = words
      .filter((w, i) => !skip.has(i) && !w.stop && !GENERIC_WORDS.has(w.lemma) && !GENERIC_WORDS.has(w.lower))
      .map((w) => (this.language.vectors.vector(w.lower) ? w.lower : w.lemma));
    const km = kmIn(prompt);
    return {
      interests,
      ...(ages && { ages: ages.range }),
      ...(place && { place: { name: place.name, latitude: place.latitude, longitude: place.longitude } }),
      ...(km !== undefined && { km }),
      content,
    };
  }

  /**
   * A traveller's words for their vector: lower case, split at anything but
   * letters, without stop words and generic words. No lemmas: the vectors
   * know inflected forms, and a million profiles must seed in minutes
   * (about 50 µs a profile with its vector this way, 240 µs through wink-nlp).
   */
  contentWords(text: string): string[] {
    return contentWords(text);
  }
}

const STOP = new Set(
  "a an the and or but if of to in on at by for with from into onto about as is are was were be been am i me my we our you your he she it its they them their this that these those who whom which what when where why how then than so too very just also not no some any all each every up down out over off again once here there can will would should could do does did have has had my mine usually next list perfect day".split(
    " ",
  ),
);

/** Words that decline what follows them in their clause. */
const NEGATIONS = new Set(["not", "no", "n't", "never", "without", "except", "excluding", "nor", "neither", "hate", "dislike", "avoid"]);
/** Words that end a clause as punctuation does: "not into clubs but love hiking". */
const CLAUSE_BREAKS = new Set(["but", "however", "though", "although", "whereas", "yet", "instead", "rather"]);

/**
 * The indices of the words a prompt declines: from a negation to the end of
 * its clause (punctuation or a word like "but"), the negation included.
 * "not only" and "not just" add rather than decline, and a negation already
 * read as part of an age ("no older than 35", at `taken`) declines nothing.
 */
export function declined(words: readonly Word[], taken: ReadonlySet<number>): number[] {
  const out: number[] = [];
  let negating = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (i > 0 && (w.clause !== words[i - 1].clause || CLAUSE_BREAKS.has(w.lower))) negating = false;
    if (NEGATIONS.has(w.lower) && !taken.has(i) && !["only", "just"].includes(words[i + 1]?.lower ?? "")) negating = true;
    if (negating) out.push(i);
  }
  return out;
}

/** See PromptReader.contentWords. */
export function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((w) => w.length > 1 && !STOP.has(w) && !GENERIC_WORDS.has(w));
}

/** The interests read, as names. */
export function interestNames(read: ReadPrompt): Interest[] {
  return read.interests.map((m) => m.interest);
}

function words_(text: string): string[] {
  return digitsForWords(text)
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** "within 20 km", "20km radius", "10 miles away" → kilometres (miles converted). */
function kmIn(prompt: string): number | undefined {
  const m = /\b(\d{1,4}(?:\.\d+)?)\s*(km|kms|kilomet(?:er|re)s?|mi|miles?)\b/i.exec(digitsForWords(prompt));
  if (!m) return undefined;
  const n = Number(m[1]) * (/^mi/i.test(m[2]) ? 1.609344 : 1);
  return n > 0 ? n : undefined;
}
