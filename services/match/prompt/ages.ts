import { digitsForWords, TENS } from "./numbers.js";

/** Ages a search accepts at all (the travellers table's check). */
const YOUNGEST = 18;
const OLDEST = 120;

const DECADE_WORDS = Object.entries(TENS).map(([word, n]) => [`${word.slice(0, -1)}ies`, n] as const);
const DECADE = `(?:(\\d)0(?:'?s|-?somethings?)|(${DECADE_WORDS.map(([w]) => w).join("|")})|(${Object.keys(TENS).join("|")})-?somethings?)`;
const PART = "(early|mid|middle|late)?[\\s-]*";

/** A part of a decade: early 30s → 30-33, mid → 33-36, late → 37-39. */
function decade(start: number, part: string | undefined): [number, number] {
  const p = part?.toLowerCase();
  if (p === "early") return [start, start + 3];
  if (p === "mid" || p === "middle") return [start + 3, start + 6];
  if (p === "late") return [start + 7, start + 9];
  return [start, start + 9];
}

const RULES: readonly { re: RegExp; range: (m: RegExpExecArray) => [number, number] | undefined }[] = [
  // 25-35, 25–35, 25 to 35, between 25 and 35, aged 25 - 35
  {
    re: /\b(\d{2})\s*(?:-|–|—|to|and|until|through)\s*(\d{2,3})(?:\b|(?=y\/?o\b|yrs?\b))(?!\s*(?:km|kilomet|mi\b|miles|%))/i,
    range: (m) => ordered(Number(m[1]), Number(m[2])),
  },
  // in their (early|mid|late) thirties / 30s / 30-somethings
  {
    re: new RegExp(`\\b${PART}${DECADE}`, "i"),
    range: (m) => {
      const start = m[2]
        ? Number(m[2]) * 10
        : (DECADE_WORDS.find(([w]) => w === m[3]?.toLowerCase())?.[1] ?? TENS[m[4]?.toLowerCase() ?? ""]);
      return start === undefined ? undefined : decade(start, m[1]);
    },
  },
  // "no older than 35" says at most 35, not over it; "not younger than 30", at least 30.
  { re: /\b(?:no|not)\s+(?:older|more)\s+than\s+(\d{2})\b/i, range: (m) => [YOUNGEST, Number(m[1])] },
  { re: /\b(?:no|not)\s+(?:younger|less)\s+than\s+(\d{2})\b/i, range: (m) => [Number(m[1]), OLDEST] },
  { re: /\b(?:over|above|older than|more than)\s+(\d{2})\b/i, range: (m) => [Number(m[1]) + 1, OLDEST] },
  {
    re: /\b(?:at least|from)\s+(\d{2})\b(?!\s*(?:km|kilomet|mi\b|miles))|\b(\d{2})\s*(?:\+|(?:or|and) (?:older|over|more|up|above)\b)/i,
    range: (m) => [Number(m[1] ?? m[2]), OLDEST],
  },
  { re: /\b(?:under|below|younger than|less than)\s+(\d{2})\b/i, range: (m) => [YOUNGEST, Number(m[1]) - 1] },
  {
    re: /\b(?:at most|up to)\s+(\d{2})\b(?!\s*(?:km|kilomet|mi\b|miles))|\b(\d{2})\s*(?:or|and) (?:younger|under|less|below)\b/i,
    range: (m) => [YOUNGEST, Number(m[1] ?? m[2])],
  },
  {
    re: /\b(?:around|about|roughly|aged?)\s+(\d{2})\b(?!\s*(?:km|kilomet|mi\b|miles))|\b(\d{2})[\s-]*(?:years?[\s-]*olds?|y\/?o)\b/i,
    range: (m) => {
      const n = Number(m[1] ?? m[2]);
      return /around|about|roughly/i.test(m[0]) ? [n - 3, n + 3] : [n, n];
    },
  },
];

/**
 * The age range a prompt asks for in words or digits ("25-35", "in their
 * thirties", "late twenties", "over 40", "thirty to forty", "30-somethings"),
 * or undefined. The first rule that matches wins, in the order above; ages
 * outside 18-120 are clipped to it, and a range that falls outside is ignored.
 */
export function agesIn(prompt: string): { range: [number, number]; match: string } | undefined {
  const text = digitsForWords(prompt);
  for (const rule of RULES) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const r = rule.range(m);
    if (!r) continue;
    const range: [number, number] = [Math.max(YOUNGEST, r[0]), Math.min(OLDEST, r[1])];
    if (range[0] <= range[1] && r[1] >= YOUNGEST && r[0] <= OLDEST) return { range, match: m[0] };
  }
  return undefined;
}

function ordered(a: number, b: number): [number, number] | undefined {
  return a <= b ? [a, b] : undefined;
}
