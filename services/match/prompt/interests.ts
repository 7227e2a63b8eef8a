import { INTERESTS, type Interest } from "../../travellers/index.js";
import type { Language, Word } from "../text/language.js";
import { dot8 } from "../text/word-vectors.js";
import { cuePhrases, cueWords, EVERYDAY_WORDS, GENERIC_WORDS } from "./interest-lexicon.js";

/** An interest a prompt asks for, and the words that asked. */
export interface InterestMatch {
  interest: Interest;
  /** The prompt's words, as written. */
  words: string;
}

/**
 * A word counts for an interest by its vector when its cosine with one of
 * the interest's cue words reaches VECTOR_THRESHOLD, and beats every other
 * interest's best cue by VECTOR_MARGIN ("trekking" is as near adventure as
 * hiking: near enough to both, it counts for neither). Tuned on the
 * development prompts only.
 */
const VECTOR_THRESHOLD = 0.6;
const VECTOR_MARGIN = 0.04;
/** ...and is nearer to it than to every everyday and generic word by this much. */
const EVERYDAY_MARGIN = 0.05;

/** Reads which interests a prompt's words ask for: by phrase, by word or its stem, then by word vector. */
export class InterestReader {
  private readonly cues = cueWords();
  private readonly phrases = cuePhrases();
  private readonly cueVectors: { interest: Interest; vectors: Int8Array[] }[];
  private readonly everyday: Int8Array[];

  constructor(private readonly language: Language) {
    const byInterest = new Map<Interest, Int8Array[]>(INTERESTS.map((i) => [i, []]));
    for (const [word, interest] of this.cues) {
      const v = language.vectors.vector(word);
      if (v) byInterest.get(interest)!.push(v);
    }
    this.cueVectors = [...byInterest].map(([interest, vectors]) => ({ interest, vectors }));
    this.everyday = [...EVERYDAY_WORDS, ...GENERIC_WORDS].flatMap((w) => language.vectors.vector(w) ?? []);
  }

  /** The interests asked for, in the order the prompt names them; words at `skip` indices (places, ages) are not read. */
  read(words: readonly Word[], skip: ReadonlySet<number>): InterestMatch[] {
    const out: InterestMatch[] = [];
    const add = (interest: Interest, written: string) => {
      if (!out.some((m) => m.interest === interest)) out.push({ interest, words: written });
    };
    for (let i = 0; i < words.length; i++) {
      if (skip.has(i)) continue;
      const w = words[i];
      const next = words[i + 1];
      if (next && !skip.has(i + 1)) {
        const phrase = this.phrases.get(`${w.lower} ${next.lower}`) ?? this.phrases.get(`${w.lemma} ${next.lemma}`);
        if (phrase) {
          add(phrase, `${w.text} ${next.text}`);
          i++;
          continue;
        }
      }
      const interest = this.interestOf(w);
      if (interest) add(interest, w.text);
    }
    return out;
  }

  /** The interest one word asks for, if any. */
  interestOf(w: Word): Interest | undefined {
    if (w.lower.length < 3 || GENERIC_WORDS.has(w.lemma) || GENERIC_WORDS.has(w.lower)) return undefined;
    const forms = [...new Set([w.lower, w.lemma, ...stems(w.lower)])];
    for (const f of forms) {
      const exact = this.cues.get(f);
      if (exact) return exact;
    }
    // Names (of days, people, places) are not read by their vectors: "Saturday" is near "nightlife".
    if (w.stop || w.pos === "PROPN" || w.pos === "NUM") return undefined;
    const form = forms.find((f) => this.language.vectors.vector(f) && !GENERIC_WORDS.has(f));
    return form === undefined ? undefined : this.nearest(this.language.vectors.vector(form)!);
  }

  /** The nearest interest by cue vectors, with its similarity and margin (for tuning and tests). */
  nearestOf(word: string): { interest: Interest; similarity: number; margin: number } | undefined {
    const v = this.language.vectors.vector(word);
    return v && this.nearestWithScores(v);
  }

  private nearest(v: Int8Array): Interest | undefined {
    const n = this.nearestWithScores(v);
    if (!n || n.similarity < VECTOR_THRESHOLD || n.margin < VECTOR_MARGIN) return undefined;
    for (const e of this.everyday) if (dot8(v, e) > n.similarity - EVERYDAY_MARGIN) return undefined;
    return n.interest;
  }

  private nearestWithScores(v: Int8Array): { interest: Interest; similarity: number; margin: number } | undefined {
    let best: Interest | undefined;
    let first = -1;
    let second = -1;
    for (const { interest, vectors } of this.cueVectors) {
      let s = -1;
      for (const c of vectors) s = Math.max(s, dot8(v, c));
      if (s > first) {
        second = first;
        first = s;
        best = interest;
      } else if (s > second) second = s;
    }
    return best && { interest: best, similarity: first, margin: first - second };
  }
}

/** Candidate stems of an English word: "snorkelers" → snorkeler, snorkel; "foodies" → foodie, food. */
export function stems(word: string): string[] {
  const out: string[] = [];
  const strip = (suffix: string, add = "") => {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) out.push(word.slice(0, -suffix.length) + add);
  };
  strip("s");
  strip("es");
  strip("ies", "y");
  strip("ies", "ie");
  strip("ies");
  strip("ers");
  strip("ers", "e");
  strip("er");
  strip("er", "e");
  strip("ing");
  strip("ing", "e");
  strip("ists");
  strip("ist");
  strip("ians");
  strip("ian", "y");
  // A doubled consonant before -ers/-ing: "divers" is covered above, "trekking" → trek, "shoppers" → shop.
  for (const s of [...out]) if (/([bdgklmnprt])\1$/.test(s)) out.push(s.slice(0, -1));
  return out;
}
