import {
  create,
  createFileRegistry,
  equals,
  fromJson,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  ComputeReorderPointRequestSchema,
  ForecastDemandRequestSchema,
  PredictStockoutRequestSchema,
  TransactionRecordSchema,
} from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { sampleProducts } from "../../services/forecast/sample-demand.js";
import { fnv1a } from "../../services/numeric/hash.js";
import { Random } from "../../services/numeric/random.js";
import { decodeJson } from "../../services/runtime/json-decode.js";

// fromJson, watched: decodeJson's fast path hands it the request without the lists it read itself,
// a fallback hands it the request as given. The tests' own reference calls go through it too.
vi.mock("@bufbuild/protobuf", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@bufbuild/protobuf")>();
  return { ...actual, fromJson: vi.fn(actual.fromJson) };
});
/** fromJson's calls since the last mockClear (which replaces the array). */
const fromJsonCalls = () => vi.mocked(fromJson).mock.calls;

/**
 * Every flat scalar type, a field whose JSON name is its proto name camel-cased and one with a
 * json_name of its own (both spellings in one item are fromJson's error), beside a list whose item
 * type is not flat (a proto3 `optional`) and a 64-bit integer.
 */
const synthetic = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "test/flat.proto",
    package: "test.flat",
    syntax: "proto3",
    messageType: [
      {
        name: "Flat",
        field: [
          scalar("count", 1, FieldDescriptorProto_Type.INT32),
          scalar("delta", 2, FieldDescriptorProto_Type.SINT32),
          scalar("offset", 3, FieldDescriptorProto_Type.SFIXED32),
          scalar("units", 4, FieldDescriptorProto_Type.UINT32),
          scalar("mask", 5, FieldDescriptorProto_Type.FIXED32),
          scalar("on", 6, FieldDescriptorProto_Type.BOOL),
          scalar("ratio", 7, FieldDescriptorProto_Type.FLOAT),
          scalar("value", 8, FieldDescriptorProto_Type.DOUBLE),
          scalar("label_text", 9, FieldDescriptorProto_Type.STRING, "labelText"),
          scalar("custom", 10, FieldDescriptorProto_Type.STRING, "Other"),
        ],
      },
      {
        name: "NotFlat",
        field: [
          scalar("a", 1, FieldDescriptorProto_Type.STRING),
          { ...scalar("b", 2, FieldDescriptorProto_Type.INT32), proto3Optional: true, oneofIndex: 0 },
        ],
        oneofDecl: [{ name: "_b" }],
      },
      {
        name: "Request",
        field: [
          scalar("name", 1, FieldDescriptorProto_Type.STRING),
          list("flat_items", 2, ".test.flat.Flat"),
          list("others", 3, ".test.flat.NotFlat"),
          list("more", 4, ".test.flat.Flat"),
          scalar("big", 5, FieldDescriptorProto_Type.INT64),
        ],
      },
    ],
  }),
  () => undefined,
);
const SyntheticRequestSchema = synthetic.getMessage("test.flat.Request")!;

function scalar(name: string, number: number, type: FieldDescriptorProto_Type, jsonName = camel(name)) {
  return { name, number, type, jsonName, label: FieldDescriptorProto_Label.OPTIONAL };
}

function list(name: string, number: number, typeName: string) {
  return {
    name,
    number,
    type: FieldDescriptorProto_Type.MESSAGE,
    typeName,
    jsonName: camel(name),
    label: FieldDescriptorProto_Label.REPEATED,
  };
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

const schemas: DescMessage[] = [
  ForecastDemandRequestSchema,
  PredictStockoutRequestSchema,
  ComputeReorderPointRequestSchema,
  SyntheticRequestSchema,
];

const [sample] = sampleProducts({ count: 1, days: 3 * 365, endDate: "2025-06-30", seed: 7 });

type Outcome = { message: Message } | { error: string };

function outcome(run: () => Message): Outcome {
  try {
    return { message: run() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The value's every own key in order, prototypes, and numbers as Object.is tells them apart (-0). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === "object" && value !== null) {
    const proto = Object.getPrototypeOf(value) === Object.prototype ? "object" : String(Object.getPrototypeOf(value));
    return [proto, ...Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k])])];
  }
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : `number ${value}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Decodes with decodeJson and with fromJson and requires the same answer: both messages equal
 * (equals, toStrictEqual, and the same own keys in the same order), or both errors in the same
 * words. True when decodeJson took its fast path (fromJson did not see the request as given).
 */
function expectSame(schema: DescMessage, json: JsonValue, ignoreUnknownFields: boolean, label = ""): boolean {
  const options = { ignoreUnknownFields };
  const expected = outcome(() => fromJson(schema, json, options));
  const before = fromJsonCalls().length;
  const actual = outcome(() => decodeJson(schema, json, options));
  const fast = fromJsonCalls().length > before && fromJsonCalls().at(-1)![1] !== json;
  if ("error" in expected || "error" in actual) {
    expect(actual, label).toEqual(expected);
    return fast;
  }
  // equals holds NaN unequal to itself (as ===); shape below compares NaN, and -0, as Object.is does.
  const nan = JSON.stringify(shape(expected.message)).includes("number NaN");
  if (!nan) expect(equals(schema, actual.message, expected.message), label).toBe(true);
  expect(actual.message, label).toStrictEqual(expected.message);
  expect(shape(actual.message), label).toEqual(shape(expected.message));
  return fast;
}

/** An own, enumerable key, as JSON.parse makes it ("__proto__" included). */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Forms ProtoJSON accepts or refuses that the fast path leaves to fromJson, and a few it reads. */
const ODD: unknown[] = [
  null,
  "NaN",
  "Infinity",
  "-Infinity",
  "1.5",
  "12",
  " 12",
  "",
  "1e3",
  "-0",
  "0x10",
  true,
  false,
  1.5,
  -0,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  -1,
  1e39,
  1e308,
  2 ** 53 + 2,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  {},
  [],
  [1],
  "\uD800",
  "a\uDC00b",
  "2024-01-01",
];

function plainValue(random: Random, field: DescField): unknown {
  switch (field.scalar) {
    case undefined:
      return null;
    case ScalarType.DOUBLE:
      return random.pick([0, 1.5, -2.25, 12, 1e308, -1e-300, 123456.789, -0, 5e-324, random.gaussian() * 100]);
    case ScalarType.FLOAT:
      return random.pick([0, 1.5, -3, 3.4e38, 1e-45, -0, 0.1]);
    case ScalarType.BOOL:
      return random.next() < 0.5;
    case ScalarType.STRING:
      return random.pick(["", "2024-02-29", "é", "😀", "a\u0000b", "\uFEFFx", `2025-0${random.int(1, 9)}-1${random.int(0, 9)}`]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return random.pick([0, 1, 4294967295, 7, -0, random.int(0, 1e9)]);
    default: // int32, sint32, sfixed32
      return random.pick([0, 1, -1, 2147483647, -2147483648, 42, -0, random.int(-1e9, 1e9)]);
  }
}

/** A list item: mostly plain, some odd in one way, at the given rate. */
function item(random: Random, schema: DescMessage, oddRate: number): unknown {
  const kind = random.next() < oddRate ? random.int(0, 6) : -1;
  if (kind === 0) return random.pick([null, [], 5, "x", true, [{}]]);
  if (kind === 4) return {};
  const entries = schema.fields
    .filter(() => random.next() < 0.85)
    .map((f): [string, unknown, DescField] => [random.next() < 0.5 ? f.jsonName : f.name, plainValue(random, f), f]);
  const some = entries.length ? entries[random.int(0, entries.length - 1)] : undefined;
  if (kind === 1 && some) some[1] = random.pick(ODD);
  if (kind === 2) entries.push([random.pick(["extra", "__proto__", "Date", "QUANTITY", "[ext]"]), random.pick(ODD), schema.fields[0]]);
  // The field again under its other name (the same key, overwritten, when it has one spelling, as JSON.parse keeps the last).
  if (kind === 3 && some) entries.push([some[0] === some[2].name ? some[2].jsonName : some[2].name, plainValue(random, some[2]), some[2]]);
  if (kind === 5 && some) some[1] = null;
  if (kind === 6 && some) some[1] = typeof some[1] === "number" ? String(some[1]) : typeof some[1] === "string" ? 1 : "true";
  const out: Record<string, unknown> = {};
  for (const [k, v] of shuffle(random, entries)) put(out, k, v);
  return out;
}

/** A request body for the schema: its fields under either name, in any order, some odd, extra keys. */
function request(random: Random, schema: DescMessage): JsonValue {
  const entries: [string, unknown][] = [];
  const oddRate = random.pick([0, 0, 0, 0.01, 0.1, 1]);
  for (const field of schema.fields) {
    if (random.next() < 0.25) continue;
    const key = random.next() < 0.5 ? field.jsonName : field.name;
    let value: unknown;
    if (field.fieldKind === "list" && field.listKind === "message") {
      const r = random.next();
      if (r < 0.01) value = sample.days.map((d) => ({ ...d }));
      else if (r < 0.06) value = random.pick([null, {}, "x", 5]);
      else value = Array.from({ length: random.pick([0, 1, 2, 5, 30]) }, () => item(random, field.message, oddRate));
      if (random.next() < 0.04) entries.push([key === field.name ? field.jsonName : field.name, []]);
    } else if (field.fieldKind === "list") {
      value = Array.from({ length: random.int(0, 3) }, () => plainValue(random, field));
    } else if (field.fieldKind === "enum") {
      value = random.pick(["HOLIDAY_CALENDAR_US", "HOLIDAY_CALENDAR_UNSPECIFIED", 1, 0, 7, "NOPE", null]);
    } else if (field.fieldKind === "scalar") {
      value =
        random.next() < 0.1
          ? random.pick(ODD)
          : field.scalar === ScalarType.INT64
            ? random.pick(["12", 12, "-9007199254740993"])
            : plainValue(random, field);
    } else continue;
    entries.push([key, value]);
  }
  if (random.next() < 0.15) entries.push([random.pick(["extra", "__proto__", "transactionDATA", "[ext]"]), random.pick(ODD)]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of shuffle(random, entries)) put(out, k, v);
  return out as JsonValue;
}

describe("decodeJson", () => {
  beforeEach(() => {
    vi.mocked(fromJson).mockClear();
  });

  it("gives what fromJson gives on random requests, plain and odd, strict and ignoring unknown fields", () => {
    for (const schema of schemas) {
      const random = new Random(fnv1a(schema.typeName, 20261203));
      let fast = 0;
      const samples = 3000;
      for (let i = 0; i < samples; i++) {
        const json = request(random, schema);
        const ignore = random.next() < 0.5;
        if (expectSame(schema, json, ignore, `${schema.typeName} #${i} ignoreUnknownFields=${ignore}`)) fast++;
        vi.mocked(fromJson).mockClear();
      }
      // Both paths must be exercised, or the comparison proves little.
      expect(fast, `${schema.typeName}: fast`).toBeGreaterThan(samples * 0.2);
      expect(samples - fast, `${schema.typeName}: fallback`).toBeGreaterThan(samples * 0.2);
    }
  });

  it("reads a plain ForecastDemand body's 1,095 items itself and the rest with fromJson", () => {
    const body = JSON.parse(
      JSON.stringify({ product_id: "bench-sku", horizon_days: 90, transaction_data: sample.days, cache_bypass: true }),
    ) as JsonObject;
    for (const ignoreUnknownFields of [false, true]) {
      vi.mocked(fromJson).mockClear();
      const message = decodeJson(ForecastDemandRequestSchema, body, { ignoreUnknownFields });
      expect(fromJsonCalls()).toHaveLength(1);
      expect(fromJsonCalls()[0][1]).toEqual({ product_id: "bench-sku", horizon_days: 90, cache_bypass: true });
      expect(message.transactionData).toHaveLength(1095);
      expect(expectSame(ForecastDemandRequestSchema, body, ignoreUnknownFields)).toBe(true);
    }
  });

  it("builds every item afresh, as create does", () => {
    const body: JsonValue = { transactionData: [{ date: "2025-01-01" }, { quantity: 2 }] };
    const [a, b] = decodeJson(ForecastDemandRequestSchema, body).transactionData;
    a.quantity = 5;
    expect(b).toStrictEqual(create(TransactionRecordSchema, { quantity: 2 }));
    expect(create(TransactionRecordSchema)).toStrictEqual({ $typeName: TransactionRecordSchema.typeName, date: "", quantity: 0 });
  });

  it("leaves requests it does not read in full to fromJson", () => {
    const plain = { date: "2025-01-01", quantity: 3 };
    const fallbacks: [string, JsonValue, boolean?][] = [
      ["a null item", { transactionData: [plain, null] }],
      ["an item that is a list", { transactionData: [[plain]] }],
      ["a field set to null", { transactionData: [{ date: null, quantity: 1 }] }],
      ["a number as a string", { transactionData: [{ date: "2025-01-01", quantity: "3" }] }],
      ["NaN as a string", { transactionData: [{ quantity: "NaN" }] }],
      ["Infinity as a string", { transactionData: [{ quantity: "Infinity" }] }],
      ["a number for a string", { transactionData: [{ date: 20250101 }] }],
      ["a lone surrogate", { transactionData: [{ date: "\uD800" }] }],
      ["an unknown key, strict", { transactionData: [{ ...plain, note: "x" }] }],
      ["the list under both names", { transactionData: [plain], transaction_data: [plain] }],
      ["a list that is not flat", { others: [{ a: "x" }] }, false],
      ["a 1.5 for an int32", { flatItems: [{ count: 1.5 }] }, false],
      ["2^31 for an int32", { flatItems: [{ count: 2 ** 31 }] }, false],
      ["-1 for a uint32", { flatItems: [{ units: -1 }] }, false],
      ["an int32 as a string", { flatItems: [{ count: "7" }] }, false],
      ["beyond float32", { flatItems: [{ ratio: 1e39 }] }, false],
      ["a bool as a string", { flatItems: [{ on: "true" }] }, false],
      ["a field under both names", { flatItems: [{ label_text: "a", labelText: "b" }] }, false],
      ["custom json_name and proto name", { flatItems: [{ custom: "a", Other: "b" }] }, false],
    ];
    const fast: [string, JsonValue, boolean, boolean?][] = [
      ["-0 and 1e308", { transactionData: [{ quantity: -0 }, { quantity: 1e308 }] }, false],
      ["an unknown key, ignored", { transactionData: [{ ...plain, note: "x" }] }, true],
      ["proto names", { transaction_data: [plain], product_id: "p" }, false],
      ["an empty item", { transactionData: [{}] }, false],
      ["an empty list", { transactionData: [] }, false],
      ["every 32-bit extreme", { flatItems: [{ count: -(2 ** 31), delta: 2 ** 31 - 1, units: 2 ** 32 - 1, mask: -0 }] }, false, false],
      ["a float kept as given, not rounded", { flatItems: [{ ratio: 0.1, on: true, value: -0 }] }, false, false],
      ["a custom json_name", { more: [{ Other: "a", label_text: "b" }] }, false, false],
    ];
    // Each 32-bit type's bounds: one past them, a fraction and a string are fromJson's; the bounds themselves are plain.
    for (const [field, min, max] of [
      ["count", -(2 ** 31), 2 ** 31 - 1],
      ["delta", -(2 ** 31), 2 ** 31 - 1],
      ["offset", -(2 ** 31), 2 ** 31 - 1],
      ["units", 0, 2 ** 32 - 1],
      ["mask", 0, 2 ** 32 - 1],
    ] as const) {
      for (const value of [min - 1, max + 1, 0.5, "7"]) fallbacks.push([`${field} ${value}`, { flatItems: [{ [field]: value }] }, false]);
      fast.push([`${field} ${min} and ${max}`, { flatItems: [{ [field]: min }, { [field]: max }] }, false, false]);
    }
    for (const [label, json, forecast = true] of fallbacks) {
      expect(expectSame(forecast ? ForecastDemandRequestSchema : SyntheticRequestSchema, json, false, label), label).toBe(false);
    }
    for (const [label, json, ignore, forecast = true] of fast) {
      expect(expectSame(forecast ? ForecastDemandRequestSchema : SyntheticRequestSchema, json, ignore, label), label).toBe(true);
    }
  });
});
