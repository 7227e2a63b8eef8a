import {
  create,
  fromJson,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
  type MessageShape,
} from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";

/** What decodeJson takes of fromJson's options. */
export interface DecodeJsonOptions {
  /** Skip keys that are not fields instead of refusing them (as fromJson does with the same option). */
  ignoreUnknownFields?: boolean;
}

/**
 * fromJson, with a fast path for lists of flat messages: a ForecastDemand
 * body's three years of `transaction_data` (1,095 `{date, quantity}` items)
 * cost fromJson about 0.7 ms, going through its general reader field by field.
 * Items in the plain form (an object of known keys with values of exactly the
 * field's JSON type, which fromJson stores unchanged) are copied onto a fresh
 * message here; the rest of the request is still read by fromJson. When any
 * item is not in that form (null, a number as a string, "NaN", a wrong type,
 * an unknown key...) the whole request goes to fromJson, so its errors and
 * its odd-but-valid forms are exactly fromJson's. The result is the message
 * fromJson gives: same values, same own keys in the same order.
 */
export function decodeJson<Desc extends DescMessage>(schema: Desc, json: JsonValue, options?: DecodeJsonOptions): MessageShape<Desc> {
  const lists = flatLists(schema);
  if (lists.length === 0 || typeof json !== "object" || json === null || Array.isArray(json)) return fromJson(schema, json, options);
  const ignoreUnknownFields = options?.ignoreUnknownFields === true;
  let rest: JsonObject | undefined;
  let decoded: { localName: string; items: Message[] }[] | undefined;
  for (const { field, readItem } of lists) {
    const byJsonName = Object.hasOwn(json, field.jsonName);
    const byName = field.name !== field.jsonName && Object.hasOwn(json, field.name);
    // Both spellings of one field: fromJson refuses the request ("set multiple times"), in its words.
    if (byJsonName && byName) return fromJson(schema, json, options);
    const key = byJsonName ? field.jsonName : byName ? field.name : undefined;
    if (key === undefined) continue;
    const value = json[key];
    // null (an empty list) or a wrong type (an error) stays in the rest, for fromJson to read as it would.
    if (!Array.isArray(value)) continue;
    const items: Message[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = readItem(value[i], ignoreUnknownFields);
      if (item === undefined) return fromJson(schema, json, options);
      items.push(item);
    }
    // A spread copies own keys in order, "__proto__" included as a plain key (assigning it would not).
    rest ??= { ...json };
    delete rest[key];
    (decoded ??= []).push({ localName: field.localName, items });
  }
  const message = fromJson(schema, rest ?? json, options);
  // The list's key already exists on the message (create sets every field), so key order is create's.
  if (decoded) for (const { localName, items } of decoded) (message as unknown as Record<string, unknown>)[localName] = items;
  return message;
}

/** One list item as a message, or undefined when it is not in the plain form (fromJson then reads the request). */
type ItemReader = (json: JsonValue, ignoreUnknownFields: boolean) => Message | undefined;

interface FlatList {
  field: DescField & { fieldKind: "list" };
  readItem: ItemReader;
}

const listsBySchema = new WeakMap<DescMessage, FlatList[]>();

/** The message's list fields whose items are flat messages, each with its item reader. */
function flatLists(schema: DescMessage): FlatList[] {
  let lists = listsBySchema.get(schema);
  if (!lists) {
    lists = [];
    for (const field of schema.fields) {
      if (field.fieldKind !== "list" || field.listKind !== "message") continue;
      const readItem = itemReader(field.message);
      if (readItem) lists.push({ field, readItem });
    }
    listsBySchema.set(schema, lists);
  }
  return lists;
}

const readers = new WeakMap<DescMessage, ItemReader | null>();

/** The compiled reader for a flat message type; undefined for any other type. */
function itemReader(desc: DescMessage): ItemReader | undefined {
  let reader = readers.get(desc);
  if (reader === undefined) {
    reader = compileItemReader(desc);
    readers.set(desc, reader);
  }
  return reader ?? undefined;
}

/**
 * Accepts a JSON value that fromJson would store unchanged in a field of the
 * scalar type; false leaves the value to fromJson (which converts or refuses).
 */
type ValueCheck = (value: unknown) => boolean;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

/** The three signed 32-bit types share one JSON form, as do the two unsigned ones. */
function isInt32(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;
}

function isUint32(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= UINT32_MAX;
}

/**
 * The plain JSON form of each scalar type that a flat message may hold, as
 * fromJson 2.17 reads it (from-json.js: compileScalarParse, then
 * checkScalarValue). Strings it also converts ("1.5" or "NaN" for a double,
 * "12" for an int32) are not accepted here: fromJson reads those requests.
 */
const plainChecks: Partial<Record<ScalarType, ValueCheck>> = {
  // fromJson refuses a string with a lone surrogate ("invalid UTF8", its check is encodeURIComponent,
  // which throws exactly then); isWellFormed is ES2024, in Node 20, but not in this lib's types.
  [ScalarType.STRING]: (v) => typeof v === "string" && (v as unknown as { isWellFormed(): boolean }).isWellFormed(),
  [ScalarType.BOOL]: (v) => typeof v === "boolean",
  // A finite number is stored as it is, -0 and 1e308 included; NaN and infinities are refused by fromJson.
  [ScalarType.DOUBLE]: (v) => typeof v === "number" && Number.isFinite(v),
  // Stored as it is, not rounded to float32; a finite number beyond float32's range is refused by fromJson.
  [ScalarType.FLOAT]: (v) => typeof v === "number" && Number.isFinite(Math.fround(v)),
  [ScalarType.INT32]: isInt32,
  [ScalarType.SINT32]: isInt32,
  [ScalarType.SFIXED32]: isInt32,
  [ScalarType.UINT32]: isUint32,
  [ScalarType.FIXED32]: isUint32,
};

interface Slot {
  localName: string;
  check: ValueCheck;
  /** This field's bit in the item's set of fields seen: a field given by both its names is fromJson's error. */
  bit: number;
}

/**
 * A reader for a flat message type: no oneofs, every field a singular scalar
 * of a type in plainChecks with implicit presence (proto3 without `optional`)
 * and no default, and not a google.protobuf type (those have JSON forms of
 * their own). Such a message is an object of zero values that fromJson then
 * assigns JSON values to, unchanged when they are in the plain form.
 */
function compileItemReader(desc: DescMessage): ItemReader | null {
  if (desc.typeName.startsWith("google.protobuf.") || desc.oneofs.length > 0) return null;
  // The fields seen in one item are bits of an int32.
  if (desc.fields.length > 31) return null;
  const slots = new Map<string, Slot>();
  for (const [i, field] of desc.fields.entries()) {
    if (field.fieldKind !== "scalar" || field.oneof || field.presence !== FeatureSet_FieldPresence.IMPLICIT) return null;
    if (field.getDefaultValue() !== undefined) return null;
    const check = plainChecks[field.scalar];
    if (!check) return null;
    const slot = { localName: field.localName, check, bit: 1 << i };
    slots.set(field.name, slot).set(field.jsonName, slot);
  }
  // What fromJson starts each item from: $typeName, then every field's zero value, in create's order.
  const template = create(desc) as unknown as Record<string, unknown>;
  // A prototype would hold presence (explicit fields); the spread below copies own keys only.
  if (Object.getPrototypeOf(template) !== Object.prototype) return null;
  return (json, ignoreUnknownFields) => {
    if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
    const message = { ...template };
    const keys = Object.keys(json);
    let seen = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const slot = slots.get(key);
      if (slot === undefined) {
        if (ignoreUnknownFields) continue;
        return undefined;
      }
      const value = json[key];
      if (seen & slot.bit || !slot.check(value)) return undefined;
      seen |= slot.bit;
      message[slot.localName] = value;
    }
    return message as unknown as Message;
  };
}
