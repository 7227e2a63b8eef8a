import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";

/** One REST binding of an RPC, compiled from its google.api.http rule. */
export interface HttpRoute {
  readonly method: DescMethod;
  readonly verb: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly template: string;
  /** "*" (whole body), a field name, or "" (no body). */
  readonly body: string;
  /** The response field to print instead of the whole response, or "". */
  readonly responseBody: string;
  /** Field paths bound by path variables, in order of the regex groups. */
  readonly variables: readonly string[];
  readonly pattern: RegExp;
  /** Literal segments count, to prefer specific routes over variable ones. */
  readonly literalWeight: number;
}

/** Every binding (primary and additional_bindings) of the methods given. */
export function httpRoutes(methods: readonly DescMethod[]): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const method of methods) {
    if (!hasOption(method, http)) continue;
    const rule = getOption(method, http);
    for (const r of [rule, ...rule.additionalBindings]) routes.push(compile(method, r));
  }
  // Most literal first, so /jobs/dead-letter wins over /jobs/{job_id}.
  return routes.sort((a, b) => b.literalWeight - a.literalWeight);
}

function compile(method: DescMethod, rule: HttpRule): HttpRoute {
  const p = rule.pattern;
  if (p.case === undefined || p.case === "custom") {
    throw new Error(`${method.parent.typeName}/${method.name}: unsupported http rule pattern`);
  }
  const verb = p.case.toUpperCase() as HttpRoute["verb"];
  const template = p.value;
  const { regex, variables, literalWeight } = compileTemplate(template);
  return {
    method,
    verb,
    template,
    body: rule.body,
    responseBody: rule.responseBody,
    variables,
    pattern: regex,
    literalWeight,
  };
}

/**
 * Compiles a path template (`/v1/{name=shelves/*}/books/{id}:verb`) to a regex,
 * following google/api/http.proto's grammar.
 */
export function compileTemplate(template: string): { regex: RegExp; variables: string[]; literalWeight: number } {
  if (!template.startsWith("/")) throw new Error(`path template must start with '/': ${template}`);
  // The verb (":cancel") follows the last variable or the last literal segment.
  let path = template;
  let verb = "";
  const colon = template.indexOf(":", Math.max(template.lastIndexOf("}"), template.lastIndexOf("/")));
  if (colon >= 0) {
    verb = template.slice(colon + 1);
    path = template.slice(0, colon);
  }
  const variables: string[] = [];
  let literalWeight = 0;
  const segmentRegex = (segment: string): string => {
    if (segment === "*") return "[^/]+";
    if (segment === "**") return ".+";
    literalWeight++;
    return escapeRegExp(segment);
  };
  let regex = "";
  let i = 1;
  while (i <= path.length) {
    if (path[i] === "{") {
      const end = path.indexOf("}", i);
      if (end < 0) throw new Error(`unclosed variable in ${template}`);
      const inner = path.slice(i + 1, end);
      const eq = inner.indexOf("=");
      const field = eq < 0 ? inner : inner.slice(0, eq);
      const sub = eq < 0 ? "*" : inner.slice(eq + 1);
      variables.push(field);
      regex += `/(${sub.split("/").map(segmentRegex).join("/")})`;
      i = end + 2;
    } else {
      const next = path.indexOf("/", i);
      const segment = path.slice(i, next < 0 ? path.length : next);
      regex += `/${segmentRegex(segment)}`;
      i = (next < 0 ? path.length : next) + 1;
    }
  }
  if (verb) regex += `:${escapeRegExp(verb)}`;
  return { regex: new RegExp(`^${regex}$`), variables, literalWeight };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
