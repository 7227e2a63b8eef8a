import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * Refuses an enum value given by a name the enum does not have, naming the
 * field: INVALID_ARGUMENT `context.style: "BEACHY" is not a name of
 * mlmesh.x.v1.Style [enum.name]`. Connect parses JSON ignoring unknown fields
 * (as connect-node does), and protobuf-es then also drops an unknown enum
 * name, leaving the field 0: the caller would hear about a rule on the zero
 * value, not about the name it sent. Fields the message does not have are
 * skipped here too; numbers are left to the parser (proto3 enums are open).
 */
export function checkJsonEnumNames(schema: DescMessage, json: unknown, path = ""): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return;
  // A message that reaches no enum has no name to check: a long list of such (transactions) is skipped whole.
  if (!reachesEnum(schema)) return;
  const fields = fieldsByJsonKey(schema);
  for (const [key, value] of Object.entries(json)) {
    const field = fields.get(key);
    if (!field || value === null) continue;
    const at = path ? `${path}.${field.name}` : field.name;
    switch (field.fieldKind) {
      case "enum":
        checkName(field.enum, value, at);
        break;
      case "message":
        if (!isWellKnown(field.message)) checkJsonEnumNames(field.message, value, at);
        break;
      case "list":
        if (!Array.isArray(value)) break;
        // Nothing to check in a list of messages that reach no enum: no item, nor a path for each, is visited.
        if (field.listKind === "message" && (isWellKnown(field.message) || !reachesEnum(field.message))) break;
        value.forEach((item, i) => {
          if (field.listKind === "enum") checkName(field.enum, item, `${at}[${i}]`);
          else if (field.listKind === "message") checkJsonEnumNames(field.message, item, `${at}[${i}]`);
        });
        break;
      case "map":
        if (typeof value !== "object" || Array.isArray(value)) break;
        for (const [k, item] of Object.entries(value as object)) {
          if (field.mapKind === "enum") checkName(field.enum, item, `${at}["${k}"]`);
          else if (field.mapKind === "message" && !isWellKnown(field.message)) checkJsonEnumNames(field.message, item, `${at}["${k}"]`);
        }
        break;
    }
  }
}

function checkName(desc: DescEnum, value: unknown, at: string): void {
  if (typeof value !== "string" || desc.typeName === "google.protobuf.NullValue") return;
  if (desc.values.some((v) => v.name === value)) return;
  const message = `${JSON.stringify(value)} is not a name of ${desc.typeName}`;
  throw new MeshError(Status.INVALID_ARGUMENT, `${at}: ${message} [enum.name]`, [{ field: at, rule: "enum.name", message }]);
}

/** google.protobuf types have JSON forms of their own (Struct, Any, Timestamp...): not field objects. */
function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.");
}

const reaches = new WeakMap<DescMessage, boolean>();

/** Whether the message, or any message its fields hold (well-known types aside), has an enum field. */
function reachesEnum(schema: DescMessage): boolean {
  let found = reaches.get(schema);
  if (found === undefined) {
    const seen = new Set<DescMessage>();
    const visit = (m: DescMessage): boolean => {
      if (seen.has(m) || (m !== schema && isWellKnown(m))) return false;
      seen.add(m);
      return m.fields.some((f) => {
        const kind = f.fieldKind === "list" ? f.listKind : f.fieldKind === "map" ? f.mapKind : f.fieldKind;
        if (kind === "enum") return true;
        return kind === "message" && visit(f.message!);
      });
    };
    found = visit(schema);
    reaches.set(schema, found);
  }
  return found;
}

const byKey = new WeakMap<DescMessage, Map<string, DescField>>();

/** A message's fields under both JSON keys the parser accepts: the JSON name and the proto name. */
function fieldsByJsonKey(schema: DescMessage): Map<string, DescField> {
  let map = byKey.get(schema);
  if (!map) {
    map = new Map();
    for (const f of schema.fields) {
      map.set(f.jsonName, f);
      map.set(f.name, f);
    }
    byKey.set(schema, map);
  }
  return map;
}
