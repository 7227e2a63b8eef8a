import {
  getOption,
  hasOption,
  isFieldSet,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type Message,
} from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import {
  DoubleRulesSchema,
  EnumRulesSchema,
  field as fieldOption,
  FieldRulesSchema,
  FloatRulesSchema,
  Int32RulesSchema,
  message as messageOption,
  MessageRulesSchema,
  oneof as oneofOption,
  OneofRulesSchema,
  RepeatedRulesSchema,
  SFixed32RulesSchema,
  SInt32RulesSchema,
  StringRulesSchema,
  type FieldRules,
  type StringRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { compileCel, Unsupported, type CelScope } from "./cel-subset.js";

/** True when a message certainly satisfies its rules; false means "ask protovalidate". */
export type CompiledRules = (message: Message) => boolean;

type ValueCheck = (value: unknown) => boolean;

const ALWAYS: CompiledRules = () => true;

/**
 * The contract's buf.validate rules for one request type, compiled into plain
 * predicates. protovalidate walks every request through reflection and its
 * CEL interpreter, which cost a small RPC about a tenth of its throughput
 * here; the rules our contract uses (lengths, UUIDs, simple patterns, ranges,
 * defined enums, list sizes, a few CEL comparisons) compile to a handful of
 * comparisons. The predicate only ever says "valid": a request it does not
 * pass goes to protovalidate, which decides and words the violations, so a
 * gap here costs speed, never correctness. Undefined when the type uses a
 * rule outside this subset (protovalidate then checks every request).
 */
export function compileRules(schema: DescMessage): CompiledRules | undefined {
  try {
    return compileMessage(schema, new Set());
  } catch {
    // Unsupported, or anything else this compiler did not foresee: protovalidate checks this type alone.
    return undefined;
  }
}

function compileMessage(schema: DescMessage, compiling: Set<string>): CompiledRules {
  if (!hasRules(schema, new Set())) return ALWAYS;
  // A recursive type with rules somewhere inside is left to protovalidate.
  if (compiling.has(schema.typeName)) throw new Unsupported(`recursive ${schema.typeName}`);
  compiling.add(schema.typeName);
  const checks: CompiledRules[] = [];
  if (hasOption(schema, messageOption)) {
    const rules = getOption(schema, messageOption);
    onlySet(MessageRulesSchema, rules, ["cel", "celExpression"]);
    for (const expression of [...rules.cel.map((r) => r.expression), ...rules.celExpression]) {
      checks.push(guarded(compileCel(expression, { message: schema })));
    }
  }
  for (const o of schema.oneofs) {
    if (!hasOption(o, oneofOption)) continue;
    const rules = getOption(o, oneofOption);
    onlySet(OneofRulesSchema, rules, ["required"]);
    // A required oneof has one member set: m[oneof] = { case, value } with a case.
    const group = o.localName;
    if (rules.required) checks.push((m) => (m as unknown as Record<string, { case?: string }>)[group]?.case !== undefined);
  }
  for (const f of schema.fields) {
    const check = compileField(f, compiling);
    if (check) checks.push(check);
  }
  compiling.delete(schema.typeName);
  if (checks.length === 0) return ALWAYS;
  if (checks.length === 1) return checks[0];
  return (m) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](m)) return false;
    return true;
  };
}

function compileField(f: DescField, compiling: Set<string>): CompiledRules | undefined {
  const checks: ValueCheck[] = [];
  const rules = hasOption(f, fieldOption) ? getOption(f, fieldOption) : undefined;
  if (rules) checks.push(...valueChecks(rules, f, { field: f }));
  // `required` is compiled for fields that track presence (a message, proto3 optional): unset fails.
  const required = rules?.required === true;
  if (required && (f.oneof || !(f.fieldKind === "message" || f.presence === FeatureSet_FieldPresence.EXPLICIT)))
    throw new Unsupported(`required on ${f.name}`);
  if (f.fieldKind === "message") {
    const nested = compileMessage(f.message, compiling);
    if (nested !== ALWAYS) checks.push(nested as ValueCheck);
  } else if (f.fieldKind === "list" && f.listKind === "message") {
    const nested = compileMessage(f.message, compiling);
    if (nested !== ALWAYS) checks.push((list) => (list as Message[]).every((m) => nested(m)));
  } else if (f.fieldKind === "map" && f.mapKind === "message" && hasRules(f.message, new Set())) {
    throw new Unsupported(`map of validated messages ${f.name}`);
  }
  if (checks.length === 0 && !required) return undefined;
  if (f.oneof) {
    // A oneof member lives at m[oneof] = { case, value }, and is validated only when it is the one set.
    const group = f.oneof.localName;
    const member = f.localName;
    return (m) => {
      const set = (m as unknown as Record<string, { case?: string; value?: unknown }>)[group];
      if (set?.case !== member) return true;
      for (let i = 0; i < checks.length; i++) if (!checks[i](set.value)) return false;
      return true;
    };
  }
  const key = f.localName;
  // Unset fields that track presence (messages, proto3 optional) are not validated, as in protovalidate.
  const skipUnset = f.fieldKind === "message" || f.presence === FeatureSet_FieldPresence.EXPLICIT;
  return (m) => {
    if (skipUnset && !isFieldSet(m, f)) return !required;
    const value = (m as unknown as Record<string, unknown>)[key];
    for (let i = 0; i < checks.length; i++) if (!checks[i](value)) return false;
    return true;
  };
}

/** The checks one FieldRules makes of a value (a field's, or a list item's). */
function valueChecks(rules: FieldRules, f: DescField, scope: CelScope, item = false): ValueCheck[] {
  // `required` is the field's own (compileField), never a list item's.
  onlySet(FieldRulesSchema, rules, item ? ["cel", "celExpression", "type"] : ["cel", "celExpression", "type", "required"]);
  if (item && (rules.cel.length || rules.celExpression.length)) throw new Unsupported("CEL on list items");
  const checks: ValueCheck[] = [];
  const elementKind = item || f.fieldKind !== "list" ? kindOf(f) : "list";
  const t = rules.type;
  switch (t.case) {
    case undefined:
      break;
    case "string":
      if (elementKind !== ScalarType.STRING) throw new Unsupported("string rules on a non-string");
      checks.push(...stringChecks(t.value));
      break;
    case "int32":
    case "sint32":
    case "sfixed32":
    case "double":
    case "float": {
      // protovalidate refuses rules of another type than the field's; so do we, or JavaScript would coerce.
      const scalar = {
        int32: ScalarType.INT32,
        sint32: ScalarType.SINT32,
        sfixed32: ScalarType.SFIXED32,
        double: ScalarType.DOUBLE,
        float: ScalarType.FLOAT,
      }[t.case];
      if (elementKind !== scalar) throw new Unsupported(`${t.case} rules on a ${String(elementKind)}`);
      const schema = {
        int32: Int32RulesSchema,
        sint32: SInt32RulesSchema,
        sfixed32: SFixed32RulesSchema,
        double: DoubleRulesSchema,
        float: FloatRulesSchema,
      }[t.case];
      onlySet(schema, t.value as never, ["lessThan", "greaterThan", "finite"]);
      checks.push(...rangeChecks(t.value as RangeRules));
      break;
    }
    case "enum": {
      if (elementKind !== "enum") throw new Unsupported("enum rules on a non-enum");
      onlySet(EnumRulesSchema, t.value, ["definedOnly", "notIn", "in"]);
      const e = enumOf(f);
      if (t.value.definedOnly) {
        const defined = new Set(e.values.map((v) => v.number));
        checks.push((v) => defined.has(v as number));
      }
      if (t.value.notIn.length) {
        const banned = new Set(t.value.notIn);
        checks.push((v) => !banned.has(v as number));
      }
      if (t.value.in.length) {
        const allowed = new Set(t.value.in);
        checks.push((v) => allowed.has(v as number));
      }
      break;
    }
    case "repeated": {
      if (f.fieldKind !== "list" || item) throw new Unsupported("repeated rules on a non-list");
      const r = t.value;
      onlySet(RepeatedRulesSchema, r, ["minItems", "maxItems", "unique", "items"]);
      const set = reflect(RepeatedRulesSchema, r);
      const min = Number(r.minItems);
      const max = set.isSet(RepeatedRulesSchema.field.maxItems) ? Number(r.maxItems) : Infinity;
      checks.push((v) => (v as unknown[]).length >= min && (v as unknown[]).length <= max);
      if (r.unique) {
        if (f.listKind !== "scalar") throw new Unsupported("unique on a list of non-scalars");
        checks.push((v) => new Set(v as unknown[]).size === (v as unknown[]).length);
      }
      if (r.items) {
        const each = valueChecks(r.items, f, { field: f }, true);
        if (each.length) {
          checks.push((v) => {
            const list = v as unknown[];
            for (let i = 0; i < list.length; i++) for (let k = 0; k < each.length; k++) if (!each[k](list[i])) return false;
            return true;
          });
        }
      }
      break;
    }
    default:
      throw new Unsupported(`${t.case} rules`);
  }
  if (!item) {
    for (const expression of [...rules.cel.map((r) => r.expression), ...rules.celExpression])
      checks.push(guarded(compileCel(expression, scope)) as ValueCheck);
  }
  return checks;
}

interface RangeRules {
  lessThan: { case: "lt" | "lte"; value: number } | { case: undefined; value?: undefined };
  greaterThan: { case: "gt" | "gte"; value: number } | { case: undefined; value?: undefined };
  finite?: boolean;
}

function rangeChecks(r: RangeRules): ValueCheck[] {
  const checks: ValueCheck[] = [];
  const lo = r.greaterThan;
  const hi = r.lessThan;
  // protovalidate reads a lower bound above the upper one as "outside the range": not mirrored.
  if (lo.case && hi.case && lo.value > hi.value) throw new Unsupported("exclusive range");
  if (lo.case === "gt") checks.push((v) => (v as number) > lo.value);
  if (lo.case === "gte") checks.push((v) => (v as number) >= lo.value);
  if (hi.case === "lt") checks.push((v) => (v as number) < hi.value);
  if (hi.case === "lte") checks.push((v) => (v as number) <= hi.value);
  if (r.finite) checks.push((v) => Number.isFinite(v));
  return checks;
}

// protovalidate's own UUID pattern.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PORTABLE_CHARACTERS = /^[A-Za-z0-9^$|()[\]{}?*+,:/ _-]*$/;

/**
 * The pattern as a JavaScript RegExp (u flag), when it certainly means what it
 * means to RE2: plain characters, classes, groups, alternation and
 * quantifiers. Not `[]` or `[^]` (RE2 reads the bracket as a literal), not
 * counted repetition of a group or above 1000 (RE2 refuses those).
 */
export function portablePattern(pattern: string): RegExp | undefined {
  if (!PORTABLE_CHARACTERS.test(pattern) || /\[\^?\]/.test(pattern) || /\)\{/.test(pattern)) return undefined;
  for (const m of pattern.matchAll(/\{(\d*)(?:,(\d*))?\}/g)) if (Number(m[1] || 0) > 1000 || Number(m[2] || 0) > 1000) return undefined;
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}

function stringChecks(rules: StringRules): ValueCheck[] {
  onlySet(StringRulesSchema, rules, ["minLen", "maxLen", "pattern", "wellKnown"]);
  const checks: ValueCheck[] = [];
  const set = reflect(StringRulesSchema, rules);
  if (set.isSet(StringRulesSchema.field.minLen)) {
    const min = Number(rules.minLen);
    // Lengths count code points; a UTF-16 length of 2 × min has at least min of them.
    checks.push((v) => (v as string).length >= 2 * min || codePoints(v as string) >= min);
  }
  if (set.isSet(StringRulesSchema.field.maxLen)) {
    const max = Number(rules.maxLen);
    checks.push((v) => (v as string).length <= max || codePoints(v as string) <= max);
  }
  if (rules.pattern) {
    const re = portablePattern(rules.pattern);
    if (!re) throw new Unsupported(`pattern ${rules.pattern}`);
    checks.push((v) => re.test(v as string));
  }
  if (rules.wellKnown.case !== undefined) {
    if (rules.wellKnown.case !== "uuid" || !rules.wellKnown.value) throw new Unsupported(`string ${rules.wellKnown.case}`);
    checks.push((v) => UUID.test(v as string));
  }
  return checks;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Throws Unsupported when a rules message sets anything outside `allowed` (including unknown extensions). */
function onlySet(schema: DescMessage, rules: Message, allowed: readonly string[]): void {
  const r = reflect(schema, rules);
  for (const f of r.fields) {
    if (!r.isSet(f)) continue;
    const name = f.oneof ? f.oneof.localName : f.localName;
    if (!allowed.includes(name)) throw new Unsupported(`${schema.name}.${f.name}`);
  }
  if ((rules as { $unknown?: unknown[] }).$unknown?.length) throw new Unsupported(`extensions on ${schema.name}`);
}

function kindOf(f: DescField): ScalarType | "enum" | "message" {
  if (f.fieldKind === "scalar") return f.scalar;
  if (f.fieldKind === "enum") return "enum";
  if (f.fieldKind === "list") return f.listKind === "scalar" ? f.scalar : f.listKind === "enum" ? "enum" : "message";
  return "message";
}

function enumOf(f: DescField): DescEnum {
  if (f.fieldKind === "enum") return f.enum;
  if (f.fieldKind === "list" && f.listKind === "enum") return f.enum;
  throw new Unsupported("no enum");
}

/** A compiled rule that throws (an index out of range) leaves the verdict to protovalidate. */
function guarded<T>(fn: (v: T) => boolean): (v: T) => boolean {
  return (v) => {
    try {
      return fn(v);
    } catch {
      return false;
    }
  };
}

/** Whether any rule applies anywhere inside a message type. */
function hasRules(schema: DescMessage, seen: Set<string>): boolean {
  if (seen.has(schema.typeName)) return false;
  seen.add(schema.typeName);
  if (hasOption(schema, messageOption)) return true;
  if (schema.oneofs.some((o) => hasOption(o, oneofOption))) return true;
  for (const f of schema.fields) {
    if (hasOption(f, fieldOption)) return true;
    const nested =
      f.fieldKind === "message" ||
      (f.fieldKind === "list" && f.listKind === "message") ||
      (f.fieldKind === "map" && f.mapKind === "message")
        ? f.message
        : undefined;
    if (nested && hasRules(nested, seen)) return true;
  }
  return false;
}
