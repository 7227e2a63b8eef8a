import type { ItemToken } from "wink-nlp";
import { loadWordVectors, type WordVectors } from "./word-vectors.js";

/** A word of a text: as written, in lower case, and its lemma ("hikers" → "hiker"). */
export interface Word {
  /** As written (capitals kept, for telling "Nice" the city from "nice"). */
  text: string;
  lower: string;
  lemma: string;
  stop: boolean;
  /** Universal part of speech ("NOUN", "PROPN", ...). */
  pos: string;
  /** Which stretch between punctuation marks the word is in (0, 1, ...): "hikers, not into clubs" has two. */
  clause: number;
}

/** What reading English needs: wink-nlp's lite model for words and lemmas, and the word vectors. */
export interface Language {
  words(text: string): Word[];
  vectors: WordVectors;
}

let language: Promise<Language> | undefined;

/**
 * Loads wink-nlp with wink-eng-lite-web-model (MIT, 3.8 MB; about 150 ms)
 * and the word vectors (see word-vectors.ts), once per process.
 */
export function loadLanguage(): Promise<Language> {
  language ??= (async () => {
    const [{ default: winkNLP }, { default: model }, vectors] = await Promise.all([
      import("wink-nlp"),
      import("wink-eng-lite-web-model"),
      loadWordVectors(),
    ]);
    // Lemmas need the part-of-speech pipe; named entities and sentiment are not used.
    const nlp = winkNLP(model, ["pos"]);
    const its = nlp.its;
    return {
      vectors,
      words(text: string): Word[] {
        const doc = nlp.readDoc(text);
        const out: Word[] = [];
        let clause = 0;
        doc.tokens().each((t: ItemToken) => {
          if (t.out(its.type) === "punctuation" && out.length && out[out.length - 1].clause === clause) clause++;
          if (t.out(its.type) !== "word") return;
          const written = t.out() as string;
          out.push({
            text: written,
            lower: written.toLowerCase(),
            // its.lemma needs the model's add-ons, which the typings do not connect to out(); it runs as documented.
            lemma: (t.out(its.lemma as never) as string).toLowerCase(),
            stop: t.out(its.stopWordFlag) as boolean,
            pos: t.out(its.pos) as string,
            clause,
          });
        });
        return out;
      },
    };
  })();
  return language;
}
