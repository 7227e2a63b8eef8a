// Checks deploy/envoy/envoy.yaml offline, since Envoy cannot be installed here:
//  1. decodes it into Envoy's own envoy.config.bootstrap.v3.Bootstrap, strictly (unknown fields,
//     bad enum values and unknown typed_config types fail), with Envoy's API protos as shipped
//     in @grpc/grpc-js-xds;
//  2. checks that every service the gRPC-JSON transcoder names is in the descriptor set, and
//     that the descriptor set is the current one (rebuilt from proto/ and compared byte for byte);
//  3. checks the deployment policy (envoyPolicyProblems): admin on loopback only, the local rate
//     limit keyed on the client's address rather than per connection, no LOGICAL_DNS upstream
//     (it would pin one mesh pod), and, where asked, TLS on every listener;
//  4. checks that its timeouts, retries and health check are scripts/fleet/proxy-settings.ts's, which
//     the local fleet's HAProxy config is generated from.
// Not checked: Envoy's own semantic validation (PGV rules, cross-field constraints), which only a
// running Envoy performs.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fromBinary, fromJson, createFileRegistry, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { anyUnpack, FileDescriptorSetSchema, type Any } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import { envoySettingsProblems } from "./fleet/envoy-settings.js";
import { PROXY_SETTINGS } from "./fleet/proxy-settings.js";

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
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
  "envoy/extensions/filters/http/health_check/v3/health_check.proto",
];

/** Envoy's API as a registry, compiled once per list of files into build/envoy-api-<hash>.binpb. */
export function envoyRegistry(): Registry {
  const key = createHash("sha256").update(ENVOY_FILES.join("\n")).digest("hex").slice(0, 12);
  const out = join(ROOT, `build/envoy-api-${key}.binpb`);
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

/** The config decoded strictly into Envoy's Bootstrap (every typed_config unpacked), or why it cannot be. */
export function decodeBootstrap(yamlText: string, registry = envoyRegistry()): { bootstrap: Message } | { problem: string } {
  try {
    const schema = registry.getMessage("envoy.config.bootstrap.v3.Bootstrap");
    if (!schema) throw new Error("Envoy's Bootstrap message is missing from the API protos");
    const bootstrap = fromJson(schema, parse(yamlText) as JsonValue, { registry });
    findTranscoders(bootstrap, registry);
    return { bootstrap };
  } catch (err) {
    return { problem: `not a valid Envoy v3 bootstrap: ${(err as Error).message}` };
  }
}

export function checkEnvoyConfig(yamlText: string, descriptorSet: Uint8Array, registry = envoyRegistry()): string[] {
  const problems: string[] = [];
  const decoded = decodeBootstrap(yamlText, registry);
  if ("problem" in decoded) return [decoded.problem];
  const bootstrap = decoded.bootstrap;
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
    "mlmesh.notify.v1.NotificationDeliveryService",
    "mlmesh.forecast.v1.ForecastService",
    "mlmesh.jobs.v1.JobQueueService",
    "mlmesh.status.v1.StatusService",
  ]) {
    if (!listed.has(s)) problems.push(`transcoder does not serve ${s}`);
  }
  return problems;
}

type Json = Record<string, unknown>;
const asList = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const typeOf = (tc: unknown): string => String((tc as Json | undefined)?.["@type"] ?? "").replace(/^.*\//, "");
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * What production needs of an Envoy bootstrap beyond being valid, read from its YAML (decode it
 * with checkEnvoyConfig first): the admin interface on loopback only; in every listener that forwards to a cluster, a
 * local rate limit whose buckets are per client address (a remote_address descriptor fed by a
 * route's or virtual host's remote_address action), never per downstream connection (a client
 * opening connections would multiply its allowance); no LOGICAL_DNS cluster (it connects to one
 * resolved address at a time, so one mesh pod would take all the traffic); and with `tls`, every
 * listener terminating TLS with a certificate and key read from files.
 */
export function envoyPolicyProblems(yamlText: string, options: { tls: boolean }): string[] {
  const problems: string[] = [];
  const cfg = parse(yamlText) as Json;
  const admin = ((cfg.admin as Json | undefined)?.address as Json | undefined)?.socket_address as Json | undefined;
  if (!admin) problems.push("admin: no socket address (an admin interface bound by default is not on loopback)");
  else if (!LOOPBACK.has(String(admin.address))) problems.push(`admin listens on ${String(admin.address)}, not on loopback`);
  const resources = (cfg.static_resources as Json | undefined) ?? {};
  for (const listener of asList(resources.listeners)) {
    const name = String(listener.name);
    // A listener that forwards nothing (the kubelet's health listener) needs neither TLS nor a limit.
    if (!JSON.stringify(listener).includes('"cluster":')) continue;
    for (const chain of asList(listener.filter_chains)) {
      if (options.tls) {
        const socket = chain.transport_socket as Json | undefined;
        const tls = socket?.typed_config as Json | undefined;
        const certs = asList((tls?.common_tls_context as Json | undefined)?.tls_certificates);
        if (typeOf(tls) !== "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext")
          problems.push(`listener ${name}: no DownstreamTlsContext transport socket (plaintext)`);
        else if (
          certs.length === 0 ||
          certs.some((c) => !(c.certificate_chain as Json | undefined)?.filename || !(c.private_key as Json | undefined)?.filename)
        )
          problems.push(`listener ${name}: TLS without a certificate_chain and private_key read from files`);
      }
      for (const filter of asList(chain.filters)) {
        const hcm = filter.typed_config as Json;
        if (typeOf(hcm) !== "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager") continue;
        const limiters = asList(hcm.http_filters).filter(
          (f) => typeOf(f.typed_config) === "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        );
        if (limiters.length === 0) problems.push(`listener ${name}: no local rate limit`);
        for (const l of limiters.map((f) => f.typed_config as Json)) {
          if (l.local_rate_limit_per_downstream_connection === true)
            problems.push(`listener ${name}: the rate limit is per connection, not per client`);
          const perClient = asList(l.descriptors).some((d) => {
            const entries = asList(d.entries);
            return entries.length === 1 && entries[0].key === "remote_address" && !entries[0].value;
          });
          if (!perClient) problems.push(`listener ${name}: no rate-limit descriptor keyed on remote_address alone`);
        }
        const hosts = asList((hcm.route_config as Json | undefined)?.virtual_hosts);
        const fedByAddress = (limits: unknown) =>
          asList(limits).some((r) => {
            const actions = asList(r.actions);
            return actions.length === 1 && "remote_address" in actions[0];
          });
        const unfed = hosts.flatMap((h) =>
          fedByAddress(h.rate_limits) ? [] : asList(h.routes).filter((r) => !fedByAddress((r.route as Json | undefined)?.rate_limits)),
        );
        if (limiters.length && unfed.length)
          problems.push(`listener ${name}: ${unfed.length} route(s) without a remote_address rate_limits action`);
      }
    }
  }
  for (const cluster of asList(resources.clusters)) {
    if (cluster.type === "LOGICAL_DNS")
      problems.push(`cluster ${String(cluster.name)}: LOGICAL_DNS reaches one address at a time, not every mesh pod`);
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
  const text = readFileSync(config, "utf8");
  // The local stack is plaintext by design; the chart's Envoy (make check-helm) must terminate TLS.
  const problems = [
    ...checkEnvoyConfig(text, readFileSync(descriptors)),
    ...envoyPolicyProblems(text, { tls: false }),
    // The timeouts, retries and health check the local fleet's HAProxy is generated from.
    ...envoySettingsProblems(text, PROXY_SETTINGS),
  ];
  if (!descriptorSetIsCurrent(descriptors))
    problems.push(`${descriptors} is stale (differs from a fresh \`buf build\` of proto/): run \`make descriptors\``);
  if (problems.length) {
    process.stderr.write(`deploy/envoy/envoy.yaml:\n  ${problems.join("\n  ")}\n`);
    process.exit(1);
  }
  process.stdout.write(
    "ok   deploy/envoy/envoy.yaml: a valid Envoy v3 bootstrap; transcoder services match the current descriptor set; admin on loopback, rate limit per client; timeouts, retries and health as scripts/fleet/proxy-settings.ts\n",
  );
}
