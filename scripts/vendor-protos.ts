// Writes the third-party .proto files our contracts import into build/proto-deps,
// taking each from the npm package that ships it (Buf's schema registry is out of
// reach here). @bufbuild/protovalidate ships validate.proto only as an embedded
// descriptor, so we print its declarations back to source. The printed file
// carries every message, field, enum and extension with its number and type but
// not the CEL bodies of the standard rules: compiling our rules needs only the
// declarations, and the validator reads the rule bodies from the package itself.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const out = process.argv[2] ?? "build/proto-deps";
const require = createRequire(import.meta.url);

function copyFrom(pkg: string, from: string, to: string): void {
  const pkgDir = dirname(require.resolve(`${pkg}/package.json`));
  const dest = join(out, to);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(join(pkgDir, from), dest);
}

copyFrom("google-proto-files", "google/api/annotations.proto", "google/api/annotations.proto");
copyFrom("google-proto-files", "google/api/http.proto", "google/api/http.proto");
copyFrom("grpc-health-check", "proto/health/v1/health.proto", "grpc/health/v1/health.proto");
copyFrom("@grpc/reflection", "build/proto/grpc/reflection/v1/reflection.proto", "grpc/reflection/v1/reflection.proto");
copyFrom("@grpc/reflection", "build/proto/grpc/reflection/v1alpha/reflection.proto", "grpc/reflection/v1alpha/reflection.proto");

function printFile(file: FileDescriptorProto): string {
  const lines: string[] = [
    "// Printed by scripts/vendor-protos.ts from the descriptor embedded in",
    "// @bufbuild/protovalidate. Declarations only; the standard rules' CEL lives in that package.",
    `syntax = "${file.syntax || "proto2"}";`,
    "",
    `package ${file.package};`,
    "",
  ];
  for (const dep of file.dependency) lines.push(`import "${dep}";`);
  lines.push("");
  for (const e of file.enumType) printEnum(e, lines, "");
  for (const m of file.messageType) printMessage(m, lines, "", file.syntax);
  printExtensions(file.extension, lines, "", file.syntax);
  return `${lines.join("\n")}\n`;
}

function printMessage(m: DescriptorProto, lines: string[], indent: string, syntax: string): void {
  lines.push(`${indent}message ${m.name} {`);
  const inner = `${indent}  `;
  for (const e of m.enumType) printEnum(e, lines, inner);
  for (const n of m.nestedType) printMessage(n, lines, inner, syntax);
  const oneofFields = new Map<number, FieldDescriptorProto[]>();
  const plain: FieldDescriptorProto[] = [];
  for (const f of m.field) {
    if (isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional) {
      const list = oneofFields.get(f.oneofIndex) ?? [];
      list.push(f);
      oneofFields.set(f.oneofIndex, list);
    } else {
      plain.push(f);
    }
  }
  for (const f of plain) lines.push(`${inner}${fieldLine(f, syntax, true)}`);
  m.oneofDecl.forEach((o, i) => {
    const fields = oneofFields.get(i);
    if (!fields) return;
    lines.push(`${inner}oneof ${o.name} {`);
    for (const f of fields) lines.push(`${inner}  ${fieldLine(f, syntax, false)}`);
    lines.push(`${inner}}`);
  });
  for (const r of m.extensionRange) {
    const end = r.end === 536870912 ? "max" : String(r.end - 1);
    lines.push(`${inner}extensions ${r.start} to ${end};`);
  }
  for (const r of m.reservedRange) {
    lines.push(`${inner}reserved ${r.start === r.end - 1 ? r.start : `${r.start} to ${r.end - 1}`};`);
  }
  if (m.reservedName.length) lines.push(`${inner}reserved ${m.reservedName.map((n) => `"${n}"`).join(", ")};`);
  printExtensions(m.extension, lines, inner, syntax);
  lines.push(`${indent}}`);
}

function printExtensions(exts: FieldDescriptorProto[], lines: string[], indent: string, syntax: string): void {
  const byExtendee = new Map<string, FieldDescriptorProto[]>();
  for (const x of exts) {
    const list = byExtendee.get(x.extendee) ?? [];
    list.push(x);
    byExtendee.set(x.extendee, list);
  }
  for (const [extendee, fields] of byExtendee) {
    lines.push(`${indent}extend ${extendee} {`);
    for (const f of fields) lines.push(`${indent}  ${fieldLine(f, syntax, true)}`);
    lines.push(`${indent}}`);
  }
}

const scalarNames: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: "double",
  [Type.FLOAT]: "float",
  [Type.INT64]: "int64",
  [Type.UINT64]: "uint64",
  [Type.INT32]: "int32",
  [Type.FIXED64]: "fixed64",
  [Type.FIXED32]: "fixed32",
  [Type.BOOL]: "bool",
  [Type.STRING]: "string",
  [Type.BYTES]: "bytes",
  [Type.UINT32]: "uint32",
  [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64",
  [Type.SINT32]: "sint32",
  [Type.SINT64]: "sint64",
};

function fieldLine(f: FieldDescriptorProto, syntax: string, withLabel: boolean): string {
  const type = f.type === Type.MESSAGE || f.type === Type.ENUM ? f.typeName : scalarNames[f.type];
  if (!type) throw new Error(`unsupported field type ${f.type} for ${f.name}`);
  let label = "";
  if (f.label === Label.REPEATED) label = "repeated ";
  else if (withLabel && (syntax !== "proto3" || f.proto3Optional)) {
    label = f.label === Label.REQUIRED ? "required " : "optional ";
  }
  const options: string[] = [];
  if (isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue)) {
    const quoted = f.type === Type.STRING || f.type === Type.BYTES;
    options.push(`default = ${quoted ? JSON.stringify(f.defaultValue) : f.defaultValue}`);
  }
  if (f.options?.packed) options.push(`packed = ${f.options.packed}`);
  const opts = options.length ? ` [${options.join(", ")}]` : "";
  return `${label}${type} ${f.name} = ${f.number}${opts};`;
}

function printEnum(e: EnumDescriptorProto, lines: string[], indent: string): void {
  lines.push(`${indent}enum ${e.name} {`);
  for (const v of e.value) lines.push(`${indent}  ${v.name} = ${v.number};`);
  lines.push(`${indent}}`);
}

const validate = printFile(file_buf_validate_validate.proto);
mkdirSync(join(out, "buf/validate"), { recursive: true });
writeFileSync(join(out, "buf/validate/validate.proto"), validate);
