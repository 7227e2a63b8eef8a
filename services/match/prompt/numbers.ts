const UNITS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
/** Tens as numbers; their -ies plurals ("thirties") name decades and are read by ages.ts. */
export const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

const TENS_RE = Object.keys(TENS).join("|");
const UNITS_RE = Object.keys(UNITS).join("|");
const NUMBER_WORD = new RegExp(`\\b(?:(${TENS_RE})(?:[\\s-]+(${UNITS_RE}))?|(${UNITS_RE}))\\b(?!ies)`, "gi");

/** The text with numbers in words written in digits ("twenty-five" → "25"); decades ("thirties") are left alone. */
export function digitsForWords(text: string): string {
  return text.replace(NUMBER_WORD, (_, tens: string | undefined, unit: string | undefined, alone: string | undefined) => {
    if (alone) return String(UNITS[alone.toLowerCase()]);
    return String(TENS[tens!.toLowerCase()] + (unit ? UNITS[unit.toLowerCase()] : 0));
  });
}
