import { getOption, hasOption, type DescService } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import { contracts } from "../../services/contracts.js";

/** One REST binding as the contract states it: `POST /match/score` for mlmesh.match.v1.MatchScoringService/ScoreMatch. */
export interface ContractRoute {
  readonly verb: string;
  readonly template: string;
  /** "Service/Method", the service's short name: "MatchScoringService/ScoreMatch". */
  readonly method: string;
  /** The rule's body: "*" (the whole request), a field name, or "" (query parameters). */
  readonly body: string;
  /** The response field printed instead of the whole response, or "". */
  readonly responseBody: string;
}

/**
 * Every google.api.http binding (primary and additional) of every method the
 * mesh serves, read straight from the generated descriptors rather than
 * through the gateway's own compiler, so a route added to a proto is expected
 * by the tests that use this list without anyone listing it.
 */
export function contractRoutes(services: readonly DescService[] = contracts): ContractRoute[] {
  const routes: ContractRoute[] = [];
  for (const service of services)
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http);
      for (const r of [rule, ...rule.additionalBindings]) {
        if (r.pattern.case === undefined || r.pattern.case === "custom") throw new Error(`${method.name}: unexpected http rule`);
        routes.push({
          verb: r.pattern.case.toUpperCase(),
          template: r.pattern.value,
          method: `${service.name}/${method.name}`,
          body: r.body,
          responseBody: r.responseBody,
        });
      }
    }
  return routes;
}

/** A path for a template, each variable filled with `value`: /jobs/{job_id}:cancel becomes /jobs/<value>:cancel. */
export function fillTemplate(template: string, value: string): string {
  return template.replace(/\{[^}]+\}/g, encodeURIComponent(value));
}
