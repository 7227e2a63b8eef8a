import { parse } from "yaml";
import { ENVOY_RETRY_ON, envoyDuration, type ProxySettings } from "./proxy-settings.js";

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/**
 * Where deploy/envoy/envoy.yaml departs from the shared proxy settings (proxy-settings.ts) that the
 * local fleet's HAProxy config is generated from: the upstream cluster's connect timeout and health
 * check, every forwarding route's timeout and retry policy, every HTTP connection manager's stream
 * idle timeout. Each difference is named with the value found and the value wanted.
 */
export function envoySettingsProblems(yamlText: string, s: ProxySettings): string[] {
  const problems: string[] = [];
  const want = (what: string, found: unknown, wanted: unknown) => {
    if (String(found) !== String(wanted))
      problems.push(`${what} is ${found === undefined ? "unset" : String(found)}, want ${String(wanted)}`);
  };
  const cfg = parse(yamlText) as Json;
  const resources = (cfg.static_resources as Json | undefined) ?? {};
  const clusters = list(resources.clusters);
  if (clusters.length === 0) problems.push("no cluster");
  for (const c of clusters) {
    const name = `cluster ${String(c.name)}`;
    want(`${name}: connect_timeout`, c.connect_timeout, envoyDuration(s.connectTimeoutMs));
    const checks = list(c.health_checks);
    if (checks.length !== 1) problems.push(`${name}: ${checks.length} health checks, want one grpc_health_check`);
    for (const h of checks) {
      want(`${name}: health check timeout`, h.timeout, envoyDuration(s.healthCheck.timeoutMs));
      want(`${name}: health check interval`, h.interval, envoyDuration(s.healthCheck.intervalMs));
      want(`${name}: unhealthy_threshold`, h.unhealthy_threshold, s.healthCheck.unhealthyThreshold);
      want(`${name}: healthy_threshold`, h.healthy_threshold, s.healthCheck.healthyThreshold);
      const grpc = h.grpc_health_check as Json | undefined;
      if (!grpc) problems.push(`${name}: the health check is not grpc_health_check`);
      else if ((grpc.service_name ?? "") !== "")
        problems.push(`${name}: the health check asks service '${String(grpc.service_name)}', want "" (the whole server)`);
    }
  }
  for (const listener of list(resources.listeners)) {
    for (const chain of list(listener.filter_chains)) {
      for (const filter of list(chain.filters)) {
        const hcm = filter.typed_config as Json | undefined;
        if (!hcm?.route_config) continue;
        const name = `listener ${String(listener.name)}`;
        want(`${name}: stream_idle_timeout`, hcm.stream_idle_timeout, envoyDuration(s.streamIdleTimeoutMs));
        for (const host of list((hcm.route_config as Json).virtual_hosts)) {
          for (const r of list(host.routes)) {
            const route = r.route as Json | undefined;
            if (!route?.cluster) continue;
            want(`${name}: route timeout`, route.timeout, envoyDuration(s.routeTimeoutMs));
            const retry = route.retry_policy as Json | undefined;
            want(`${name}: retry_policy.retry_on`, retry?.retry_on, ENVOY_RETRY_ON);
            want(`${name}: retry_policy.num_retries`, retry?.num_retries, s.retries.count);
          }
        }
      }
    }
  }
  return problems;
}
