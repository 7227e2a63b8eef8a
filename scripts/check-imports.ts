// Checks the import rules that keep the service areas side by side (README, "Layout"):
//  1. services/runtime/ imports no area and no area's contract: it is what every area shares.
//  2. services/numeric/ imports nothing else of services/.
//  3. An area imports another area only through that area's index.ts, what it hands out on purpose.
//  4. An area speaks its own contract (gen/mlmesh/<area>/), not another area's.
//  5. No area imports the files that gather the areas (services/*.ts).
//  6. Those files take each area by its entry files: index.ts, service.ts (the area), jobs.ts (its jobs).
//  7. A client package (clients/<name>/) imports only the contracts (gen/) and its own files: it ships
//     without the server. The web client imports no Node built-in: it runs in browsers and Edge Functions.
// runtime/ and numeric/ are open to every area, file by file. cli/, bench/ and test/ stand above the
// areas and may reach any file. Prints each import that breaks a rule; exits 1 if there is one.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
/** Node's built-in modules, for imports written without the node: prefix. */
const NODE_BUILTINS = new Set(builtinModules);

/** Folders under services/ that every area may use file by file. */
const SHARED = new Set(["runtime", "numeric"]);
/** What an area hands to other areas. */
const AREA_FACE = "index.ts";
/** What the files gathering the areas (services/areas.ts, services/job-handlers.ts) may take of one. */
const AREA_ENTRIES = new Set([AREA_FACE, "service.ts", "jobs.ts"]);

/** Where a file stands: an area (or shared folder) under services/, a file gathering the areas, a contract, or elsewhere. */
type Place =
  | { kind: "area"; name: string; rest: string }
  | { kind: "top"; rest: string }
  | { kind: "contract"; name: string }
  | { kind: "generated" }
  | { kind: "client"; name: string }
  | { kind: "other" };

function placeOf(path: string): Place {
  const parts = path.split("/");
  if (parts[0] === "services")
    return parts.length === 2 ? { kind: "top", rest: parts[1] } : { kind: "area", name: parts[1], rest: parts.slice(2).join("/") };
  if (parts[0] === "gen") return parts[1] === "mlmesh" ? { kind: "contract", name: parts[2] } : { kind: "generated" };
  if (parts[0] === "clients" && parts.length > 2) return { kind: "client", name: parts[1] };
  return { kind: "other" };
}

/** Why an import of `to` by `from` (both from the repository's root) breaks a rule, or undefined when it keeps them. */
export function violation(from: string, to: string): string | undefined {
  const f = placeOf(from);
  const t = placeOf(to);
  if (f.kind === "client" && !(t.kind === "contract" || t.kind === "generated" || (t.kind === "client" && t.name === f.name))) {
    return `a client package imports only gen/ and its own files (clients/${f.name}/): it ships without the server`;
  }
  if (f.kind === "area" && f.name === "runtime") {
    if ((t.kind === "area" && t.name !== "runtime") || t.kind === "top")
      return "runtime/ imports no area: every area builds on it, not the other way round";
    if (t.kind === "contract") return "runtime/ imports no area's contract: it serves any contract it is given";
  }
  if (f.kind === "area" && f.name === "numeric" && (t.kind === "top" || (t.kind === "area" && t.name !== "numeric"))) {
    return "numeric/ imports nothing else of services/: it is plain arithmetic";
  }
  if (f.kind === "area" && !SHARED.has(f.name)) {
    if (t.kind === "top") return "an area does not import the files that gather the areas";
    if (t.kind === "area" && t.name !== f.name && !SHARED.has(t.name) && t.rest !== AREA_FACE) {
      return `an area reaches another only through what that one hands out on purpose, services/${t.name}/${AREA_FACE}`;
    }
    if (t.kind === "contract" && t.name !== f.name) return `an area speaks its own contract, not gen/mlmesh/${t.name}/`;
  }
  if (f.kind === "top" && t.kind === "area" && !SHARED.has(t.name) && !AREA_ENTRIES.has(t.rest)) {
    return `the areas are gathered by their entry files (${[...AREA_ENTRIES].join(", ")}), not services/${t.name}/${t.rest}`;
  }
  return undefined;
}

/** Why `from` (a path from the repository's root) may not import the package `spec`, or undefined when it may. */
export function packageViolation(from: string, spec: string): string | undefined {
  const f = placeOf(from);
  if (f.kind === "client" && f.name === "web" && (spec.startsWith("node:") || NODE_BUILTINS.has(spec.split("/")[0]))) {
    return "the web client imports no Node built-in: it runs in browsers and Edge Functions";
  }
  return undefined;
}

function specifiersOf(root: string, file: string): string[] {
  return ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true).importedFiles.map((i) => i.fileName);
}

/** Every relative import of a file, as paths from the repository's root (.js specifiers name .ts sources). */
function importsOf(root: string, file: string): string[] {
  return specifiersOf(root, file)
    .filter((spec) => spec.startsWith("."))
    .map((spec) =>
      relative(root, resolve(root, dirname(file), spec))
        .split(sep)
        .join("/")
        .replace(/\.js$/, ".ts"),
    );
}

function sourcesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourcesUnder(root, path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every import under services/ and in the client packages' sources that breaks a rule. */
export function importViolations(root = ROOT): { from: string; to: string; why: string }[] {
  const found: { from: string; to: string; why: string }[] = [];
  const clients = readdirSync(join(root, "clients"), { withFileTypes: true }).filter((e) => e.isDirectory());
  const files = [...sourcesUnder(root, "services"), ...clients.flatMap((c) => sourcesUnder(root, `clients/${c.name}/src`))];
  for (const from of files) {
    for (const to of importsOf(root, from)) {
      const why = violation(from, to);
      if (why) found.push({ from, to, why });
    }
    for (const spec of specifiersOf(root, from).filter((spec) => !spec.startsWith("."))) {
      const why = packageViolation(from, spec);
      if (why) found.push({ from, to: spec, why });
    }
  }
  return found;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const found = importViolations();
  for (const v of found) process.stderr.write(`${v.from} imports ${v.to}: ${v.why}\n`);
  if (found.length) {
    process.stderr.write(`check-imports: ${found.length} import${found.length > 1 ? "s break" : " breaks"} the layout's rules\n`);
    process.exit(1);
  }
  process.stdout.write("check-imports: every import under services/ and clients/ keeps the layout's rules\n");
}
