// Merges protoc-gen-swagger's per-file documents (build/openapi/parts) into one
// OpenAPI document of the whole REST surface, build/openapi/mlmesh.swagger.json,
// which the admin port serves at /openapi.json.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const partsDir = process.argv[2] ?? "build/openapi/parts";
const out = process.argv[3] ?? "build/openapi/mlmesh.swagger.json";

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith(".swagger.json")) yield path;
  }
}

type Doc = { paths?: Record<string, Record<string, unknown>>; definitions?: Record<string, unknown> };
const merged = {
  swagger: "2.0",
  info: { title: "ml-mesh REST API", version: "v1", description: "Transcoded from the gRPC contract's google.api.http rules." },
  schemes: ["http", "https"],
  consumes: ["application/json"],
  produces: ["application/json"],
  securityDefinitions: { bearer: { type: "apiKey", name: "authorization", in: "header", description: "Bearer <API key>" } },
  security: [{ bearer: [] }],
  paths: {} as Record<string, Record<string, unknown>>,
  definitions: {} as Record<string, unknown>,
};
for (const file of [...walk(partsDir)].sort()) {
  const doc = JSON.parse(readFileSync(file, "utf8")) as Doc;
  for (const [path, ops] of Object.entries(doc.paths ?? {})) merged.paths[path] = { ...merged.paths[path], ...ops };
  for (const [name, schema] of Object.entries(doc.definitions ?? {})) {
    const existing = merged.definitions[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) throw new Error(`definition ${name} differs between files`);
    merged.definitions[name] = schema;
  }
}
writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
process.stdout.write(`${out}: ${Object.keys(merged.paths).length} paths, ${Object.keys(merged.definitions).length} definitions\n`);
