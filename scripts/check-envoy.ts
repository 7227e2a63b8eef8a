// Checks deploy/envoy/envoy.yaml offline, since Envoy cannot be installed here:
//  1. decodes it into Envoy's own envoy.config.bootstrap.v3.Bootstrap, strictly (unknown fields,
//     bad enum values and unknown typed_config types fail), with Envoy's API protos as shipped
//     in @grpc/grpc-js-xds;
//  2. checks that every service the gRPC-JSON transcoder names is in the descriptor set, and
//     that the descriptor set is the current one (rebuilt from proto/ and compared byte for byte).
// Not checked: Envoy's own semantic validation (PGV rules, cross-field constraints), which only a
// running Envoy performs.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fromBinary, fromJson, createFileRegistry, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { anyUnpack, FileDescriptorSetSchema, type Any } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const BUF = join(ROOT, "node_modules/.bin/buf");
const ENVOY_FILES = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/cors/v3/cors.proto",
  "envoy/extensions/filters/http/grpc_web/v3/grpc_web.proto",
  "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto",
  "envoy/extensions/filters/http/grpc_json_transcoder/v3/transcoder.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
];

/** Envoy's API as a registry, compiled once into build/envoy-api.binpb. */
export function envoyRegistry(): Registry {
  const out = join(ROOT, "build/envoy-api.binpb");
  if (!existsSync(out)) {
    const require = createRequire(import.meta.url);
    const deps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
    const src = join(ROOT, "build/envoy-protos");
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    for (const [from, to] of [
      ["envoy-api/envoy", "envoy"],
      ["googleapis/google", "google"],
      ["protoc-gen-validate/validate", "validate"],
      ["xds/udpa", "udpa"],
      ["xds/xds", "xds"],
    ]) {
      cpSync(join(deps, from), join(src, to), { recursive: true });
    }
    writeFileSync(join(src, "buf.yaml"), "version: v2\n");
    // The validate.proto bundled there predates `ignore_empty`, which Envoy's protos use in
    // options; add it with protoc-gen-validate's field numbers so the options compile.
    const validate = join(src, "validate/validate.proto");
    let text = readFileSync(validate, "utf8");
    const numbers: Record<string, number> = { StringRules: 26, BytesRules: 14, RepeatedRules: 5, MapRules: 6 };
    for (const t of [
      "Float",
      "Double",
      "Int32",
      "Int64",
      "UInt32",
      "UInt64",
      "SInt32",
      "SInt64",
      "Fixed32",
      "Fixed64",
      "SFixed32",
      "SFixed64",
    ])
      numbers[`${t}Rules`] = 8;
    for (const [m, n] of Object.entries(numbers)) {
      if (!new RegExp(`message ${m} \\{[^}]*ignore_empty`).test(text))
        text = text.replace(`message ${m} {`, `message ${m} {\n    optional bool ignore_empty = ${n};`);
    }
    writeFileSync(validate, text);
    execFileSync(BUF, ["build", src, "-o", out, ...ENVOY_FILES.flatMap((f) => ["--path", join(src, f)])], { stdio: "inherit" });
  }
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
}

export function checkEnvoyConfig(yamlText: string, descriptorSet: Uint8Array, registry = envoyRegistry()): string[] {
  const problems: string[] = [];
  let bootstrap: Message;
  try {
    const schema = registry.getMessage("envoy.config.bootstrap.v3.Bootstrap");
    if (!schema) throw new Error("Envoy's Bootstrap message is missing from the API protos");
    bootstrap = fromJson(schema, parse(yamlText) as JsonValue, { registry });
  } catch (err) {
    return [`not a valid Envoy v3 bootstrap: ${(err as Error).message}`];
  }
  const ours = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const transcoders = findTranscoders(bootstrap, registry);
  if (transcoders.length === 0) problems.push("no grpc_json_transcoder filter");
  for (const t of transcoders) {
    for (const s of t.services) if (!ours.getService(s)) problems.push(`transcoder names ${s}, which is not in the descriptor set`);
    if (!t.convertGrpcStatus) problems.push("transcoder: convert_grpc_status is off");
  }
  const listed = new Set(transcoders.flatMap((t) => t.services));
  for (const s of [
    "mlmesh.match.v1.MatchScoringService",
    "mlmesh.recommend.v1.RecommendationService",
    "mlmesh.notify.v1.NotificationTimingService",
    "mlmesh.forecast.v1.ForecastService",
    "mlmesh.jobs.v1.JobQueueService",
  ]) {
    if (!listed.has(s)) problems.push(`transcoder does not serve ${s}`);
  }
  return problems;
}

/** Every GrpcJsonTranscoder anywhere in the config, unpacking each typed_config Any on the way down. */
function findTranscoders(node: unknown, registry: Registry, out: { services: string[]; convertGrpcStatus: boolean }[] = []) {
  if (Array.isArray(node))
    node.forEach((n) => {
      findTranscoders(n, registry, out);
    });
  else if (node && typeof node === "object" && !(node instanceof Uint8Array)) {
    const m = node as Record<string, unknown>;
    if (m.$typeName === "google.protobuf.Any") {
      const inner = anyUnpack(m as unknown as Any, registry);
      if (!inner) throw new Error(`unknown typed_config type ${String(m.typeUrl)}`);
      if (inner.$typeName === "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder") {
        const t = inner as unknown as { services: string[]; convertGrpcStatus: boolean };
        out.push({ services: t.services, convertGrpcStatus: t.convertGrpcStatus });
      }
      findTranscoders(inner, registry, out);
      return out;
    }
    for (const v of Object.values(m)) findTranscoders(v, registry, out);
  }
  return out;
}

/** The descriptor set must be what buf builds from proto/ now. */
export function descriptorSetIsCurrent(path: string): boolean {
  const fresh = join(tmpdir(), `mlmesh-${process.pid}.binpb`);
  execFileSync(BUF, ["build", "-o", fresh], { cwd: ROOT });
  const same = Buffer.compare(readFileSync(fresh), readFileSync(path)) === 0;
  rmSync(fresh, { force: true });
  return same;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const config = join(ROOT, "deploy/envoy/envoy.yaml");
  const at = process.argv.indexOf("--descriptors");
  if (at !== -1 && !process.argv[at + 1]) {
    process.stderr.write("usage: tsx scripts/check-envoy.ts [--descriptors build/mlmesh.binpb]\n");
    process.exit(2);
  }
  const descriptors = at === -1 ? join(ROOT, "build/mlmesh.binpb") : process.argv[at + 1];
  if (!existsSync(descriptors)) {
    process.stderr.write(`${descriptors} does not exist: run \`make descriptors\`\n`);
    process.exit(1);
  }
  const problems = checkEnvoyConfig(readFileSync(config, "utf8"), readFileSync(descriptors));
  if (!descriptorSetIsCurrent(descriptors))
    problems.push(`${descriptors} is stale (differs from a fresh \`buf build\` of proto/): run \`make descriptors\``);
  if (problems.length) {
    process.stderr.write(`deploy/envoy/envoy.yaml:\n  ${problems.join("\n  ")}\n`);
    process.exit(1);
  }
  process.stdout.write("ok   deploy/envoy/envoy.yaml: a valid Envoy v3 bootstrap; transcoder services match the current descriptor set\n");
}
