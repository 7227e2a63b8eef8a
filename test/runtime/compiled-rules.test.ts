import { create, getOption, hasOption, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { field as fieldOption } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { describe, expect, it } from "vitest";
import { ScoreMatchRequestSchema, SearchMatchesRequestSchema } from "../../gen/mlmesh/match/v1/match_scoring_service_pb.js";
import { contracts } from "../../services/contracts.js";
import { compileCel, Unsupported } from "../../services/runtime/cel-subset.js";
import { compileRules, portablePattern } from "../../services/runtime/compiled-rules.js";
import { fnv1a } from "../../services/numeric/hash.js";
import { Random } from "../../services/numeric/random.js";

const requests = [...new Map(contracts.flatMap((s) => s.methods.map((m) => [m.input.typeName, m.input] as const))).values()];
const protovalidate = createValidator();

describe("compiled validation rules", () => {
  it("compile for every request type of the contract", () => {
    // A rule outside the compiled subset still works (protovalidate checks it), but slowly: say so here.
    const slow = requests.filter((schema) => !compileRules(schema)).map((s) => s.typeName);
    expect(slow).toEqual([]);
  });

  it("agree with protovalidate on random requests, valid and not", () => {
    for (const schema of requests) {
      // A stream of its own per type: a request type added to the contract shifts no other type's samples.
      const random = new Random(fnv1a(schema.typeName, 20261201));
      const fast = compileRules(schema)!;
      const ruled = hasAnyRule(schema);
      let valid = 0;
      let samples = 0;
      // 3,000 samples, and more (up to 30,000) while either verdict is still rare: a type with many
      // rules seldom draws a valid request, and the comparison proves little with few of either.
      while (samples < 3000 || (ruled && Math.min(valid, samples - valid) < 30 && samples < 30_000)) {
        const message = sample(schema, random, 0);
        const expected = protovalidate.validate(schema, message).kind === "valid";
        if (fast(message) !== expected) {
          throw new Error(
            `${schema.typeName}: compiled rules say ${!expected}, protovalidate ${expected}, for ${JSON.stringify(message, replacer)}`,
          );
        }
        if (expected) valid++;
        samples++;
      }
      // Both verdicts must occur, or the comparison proves little (types without rules are always valid).
      if (ruled) expect(valid, `${schema.typeName}: valid samples`).toBeGreaterThanOrEqual(30);
      if (ruled) expect(samples - valid, `${schema.typeName}: invalid samples`).toBeGreaterThanOrEqual(30);
    }
  });

  it("leave CEL outside the subset to protovalidate", () => {
    for (const expression of [
      "this.user_a_id.startsWith('a')",
      "this.user_a_id < this.user_b_id",
      "this.user_a_id == 1",
      "size(this.user_a_id) > 1",
      "this.user_a_id",
    ]) {
      expect(() => compileCel(expression, { message: ScoreMatchRequestSchema }), expression).toThrow(Unsupported);
    }
    // Messages other than `this` (well-known types unwrap in CEL) are not read.
    expect(() => compileCel("this.context.destination == ''", { message: ScoreMatchRequestSchema })).toThrow(Unsupported);
    // An unset optional field reads as its zero value, as in CEL.
    expect(compileCel("this.latitude == 0.0", { message: SearchMatchesRequestSchema })(create(SearchMatchesRequestSchema))).toBe(true);
    expect(compileCel("this.latitude != 0.0", { message: SearchMatchesRequestSchema })(create(SearchMatchesRequestSchema))).toBe(false);
    const ages = SearchMatchesRequestSchema.field.ageRangeYears;
    const rule = compileCel("size(this) == 0 || this[0] >= 18", { field: ages });
    expect(rule([])).toBe(true);
    expect(rule([17])).toBe(false);
    // An index past the end throws: the caller treats that as "ask protovalidate".
    expect(() => compileCel("this[1] >= 18", { field: ages })([20])).toThrow(RangeError);
  });
});

describe("portable patterns", () => {
  it("compile to a RegExp only where RE2 would read them the same way", () => {
    const date = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
    expect(portablePattern(date)?.test("2026-12-01")).toBe(true);
    expect(portablePattern(date)?.test("2026-13-01")).toBe(false);
    // RE2 reads "]" right after "[" or "[^" as a literal; JavaScript as an empty class.
    expect(portablePattern("^[^][]*$")).toBeUndefined();
    // RE2 refuses counts above 1000 and counted groups that multiply past it.
    expect(portablePattern("^[0-9]{1001}$")).toBeUndefined();
    expect(portablePattern("^(a{100}){100}$")).toBeUndefined();
    // Escapes, dots and POSIX classes differ or may differ: left to protovalidate.
    for (const p of ["^\\d+$", "^a.b$", "[[:alpha:]]", "(?i)a", "a{,3}"]) expect(portablePattern(p), p).toBeUndefined();
  });
});

function hasAnyRule(schema: DescMessage): boolean {
  return schema.fields.some(
    (f) =>
      hasOption(f, fieldOption) ||
      ((f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")) && hasAnyRule(f.message)),
  );
}

const UUIDS = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "ABCDEF01-2345-4789-8ABC-DEF012345678"];
const STRINGS = [
  "",
  ...UUIDS,
  ...UUIDS,
  "00000000-0000-4000-8000-00000000000",
  "00000000-0000-4000-8000-0000000000012",
  "g0000000-0000-4000-8000-000000000001",
  "Lisbon",
  "2026-07-01",
  "2026-07-01/2026-07-09",
  "2026-13-01",
  "2026-07-32",
  "2026-7-1",
  "job-1",
  "😀",
];
const INTS = [0, 1, -1, 2, 17, 18, 25, 40, 99, 100, 101, 120, 121, 365, 366, 499, 500, 501, 999, 1000, 1001, 2147483647, -2147483648];
const DOUBLES = [
  0,
  -0,
  0.5,
  0.95,
  0.999,
  1,
  1.5,
  -1,
  -90,
  90,
  90.000001,
  -90.5,
  180,
  -180,
  180.5,
  19999.9,
  20000,
  20001,
  NaN,
  Infinity,
  -Infinity,
];

/** A request whose fields come from pools of values around the contract's limits. */
function sample(schema: DescMessage, random: Random, depth: number): Message {
  const init: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (f.oneof || f.fieldKind === "map") continue;
    if (random.next() < 0.15) continue; // left unset
    const value = fieldValue(f, random, depth);
    if (value !== undefined) init[f.localName] = value;
  }
  // Each oneof: none of its members, or one of them.
  for (const o of schema.oneofs) {
    const f = random.pick([undefined, ...o.fields]);
    const value = f && fieldValue(f, random, depth);
    if (f && value !== undefined) init[o.localName] = { case: f.localName, value };
  }
  return create(schema, init as never);
}

function fieldValue(f: DescField, random: Random, depth: number): unknown {
  switch (f.fieldKind) {
    case "scalar":
      return scalar(f.scalar, random, f);
    case "enum":
      return random.pick([...f.enum.values.map((v) => v.number), 0, 99]);
    case "message":
      return depth < 3 && !f.message.typeName.startsWith("google.") ? sample(f.message, random, depth + 1) : undefined;
    case "list": {
      const n = listLength(f, random);
      if (f.listKind === "message") {
        if (depth >= 3 || f.message.typeName.startsWith("google.")) return undefined;
        const one = sample(f.message, random, depth + 1);
        // Long lists repeat one element: what matters is their length and that element.
        return Array.from({ length: n }, (_, i) => (i < 8 ? sample(f.message, random, depth + 1) : one));
      }
      if (f.listKind === "enum") return Array.from({ length: n }, () => random.pick([...f.enum.values.map((v) => v.number), 0, 99]));
      const first = Array.from({ length: Math.min(n, 8) }, () => scalar(f.scalar, random, f));
      // Past eight items, distinct values (for unique rules) of the first item's shape.
      return [
        ...first,
        ...Array.from({ length: n - first.length }, (_, i) =>
          typeof first[0] === "string" && UUIDS.includes(first[0] as string) ? uuid(i) : first[0],
        ),
      ];
    }
    default:
      return undefined;
  }
}

function scalar(type: ScalarType, random: Random, f: DescField): unknown {
  switch (type) {
    case ScalarType.STRING: {
      const r = random.next();
      if (r < 0.08) return "😀".repeat(random.pick(lengthLimits(f)));
      if (r < 0.16) return "x".repeat(random.pick(lengthLimits(f)));
      if (r < 0.6) return random.pick(likely(f));
      return random.pick(STRINGS);
    }
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return random.pick(INTS);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return random.pick(DOUBLES);
    case ScalarType.BOOL:
      return random.next() < 0.5;
    default:
      return undefined;
  }
}

/** Values of the shape a string field's rules ask for, so that valid requests are common. */
function likely(f: DescField): string[] {
  const s = stringRules(f);
  if (s?.wellKnown.case === "uuid" || s?.pattern.includes("{8}-")) return UUIDS;
  if (s?.pattern.includes("[0-9]{4}")) return ["2026-07-01", "2026-12-31", "2026-07-01/2026-07-09", ""];
  return ["Lisbon", "job-1", "food"];
}

function stringRules(f: DescField) {
  const rules = hasOption(f, fieldOption) ? getOption(f, fieldOption) : undefined;
  return rules?.type.case === "string"
    ? rules.type.value
    : rules?.type.case === "repeated" && rules.type.value.items?.type.case === "string"
      ? rules.type.value.items.type.value
      : undefined;
}

/** String lengths at and just past the field's limits, and a few ordinary ones. */
function lengthLimits(f: DescField): number[] {
  const s = stringRules(f);
  const limits = [1, 5, 20];
  if (s?.maxLen) limits.push(Number(s.maxLen) - 1, Number(s.maxLen), Number(s.maxLen) + 1);
  if (s?.minLen) limits.push(Number(s.minLen));
  return limits.filter((n) => n >= 0);
}

function listLength(f: DescField, random: Random): number {
  const rules = hasOption(f, fieldOption) ? getOption(f, fieldOption) : undefined;
  const r = rules?.type.case === "repeated" ? rules.type.value : undefined;
  if (r && random.next() < 0.1) {
    // Limits in the thousands are checked by the same code as this one; building such lists for every sample is slow.
    const max = Number(r.maxItems);
    if (max && max <= 1000) return random.pick([max, max + 1]);
  }
  return random.pick([0, 0, 1, 2, 2, 3, 5]);
}

function uuid(i: number): string {
  return `00000000-0000-4000-9000-${(i + 1).toString(16).padStart(12, "0")}`;
}

function replacer(_key: string, value: unknown) {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value) && value.length > 10) return `[${value.length} items]`;
  if (typeof value === "string" && value.length > 40) return `${value.slice(0, 20)}… (${value.length})`;
  return value;
}
