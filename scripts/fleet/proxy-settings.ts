/**
 * What the proxy in front of the mesh replicas does, once for both proxies: deploy/envoy/envoy.yaml
 * (Envoy, the compose stack) must carry these values (`make check-envoy` compares them), and the
 * local fleet's HAProxy config is generated from them (scripts/fleet/haproxy.ts). Where the two
 * proxies name a setting differently, each side maps it; where HAProxy has no exact equivalent, the
 * mapping says so.
 */
export interface ProxySettings {
  /** A connection to a replica must be up within this (Envoy's cluster connect_timeout, HAProxy's timeout connect). */
  connectTimeoutMs: number;
  /** A call may take this long (Envoy's route timeout; HAProxy's timeout server, which counts silence instead). */
  routeTimeoutMs: number;
  /** A client stream with nothing sent either way is closed after this (Envoy's stream_idle_timeout, HAProxy's timeout client). */
  streamIdleTimeoutMs: number;
  /** The active health check: grpc.health.v1 Check of the whole server (service ""). */
  healthCheck: {
    timeoutMs: number;
    intervalMs: number;
    /** Failed checks in a row before a replica is taken out (Envoy unhealthy_threshold, HAProxy fall). */
    unhealthyThreshold: number;
    /** Passed checks in a row before it is put back (Envoy healthy_threshold, HAProxy rise). */
    healthyThreshold: number;
  };
  /**
   * Retries of a call whose request no replica processed: the connection could not be made, or the
   * replica refused the stream (Envoy connect-failure and refused-stream; HAProxy conn-failure and
   * empty-response, the latter also covering a replica that closed before answering a byte).
   * Nothing else is retried by the proxy: a submission may have been taken.
   */
  retries: { count: number };
}

export const PROXY_SETTINGS: ProxySettings = {
  connectTimeoutMs: 1_000,
  routeTimeoutMs: 60_000,
  streamIdleTimeoutMs: 300_000,
  healthCheck: { timeoutMs: 1_000, intervalMs: 5_000, unhealthyThreshold: 2, healthyThreshold: 1 },
  retries: { count: 2 },
};

/** Envoy's retry_on for the retries above. */
export const ENVOY_RETRY_ON = "connect-failure,refused-stream";

/**
 * How long a replica must keep serving after its health turns NOT_SERVING before the proxy has
 * surely stopped sending it calls: every failed check the proxy needs, each up to an interval
 * plus its timeout apart, and one interval of slack for a busy machine.
 */
export function drainDelayMs(s: ProxySettings): number {
  const h = s.healthCheck;
  return (h.unhealthyThreshold + 1) * (h.intervalMs + h.timeoutMs);
}

/** Envoy's duration text ("1s", "0.5s") for milliseconds. */
export function envoyDuration(ms: number): string {
  return `${ms / 1000}s`;
}

/**
 * The same settings with the health check every second (timeout 1 s: HAProxy bounds a check by its
 * interval too), for the fleet tests and the fleet bench: a drain then takes 6 s instead of 18 s. A
 * shorter check flaps on a busy machine (a replica answering a check late is taken out).
 */
export function withQuickHealthChecks(s: ProxySettings): ProxySettings {
  return { ...s, healthCheck: { ...s.healthCheck, intervalMs: 1_000, timeoutMs: 1_000 } };
}
