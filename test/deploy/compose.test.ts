import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadJobsConfig } from "../../services/jobs/config.js";
import { JobMetrics, registerQueueDepth } from "../../services/jobs/job-metrics.js";
import { JobQueues } from "../../services/jobs/queues.js";
import { MeshMetrics } from "../../services/runtime/metrics.js";

// Docker cannot run here: the compose file, Prometheus config and dashboard are checked for what they promise.
const compose = parse(readFileSync("deploy/docker-compose.yml", "utf8")) as { services: Record<string, Record<string, unknown>> };
const envoy = readFileSync("deploy/envoy/envoy.yaml", "utf8");
const collectorText = readFileSync("deploy/otel/collector.yaml", "utf8");

type Collector = {
  receivers?: Record<string, unknown>;
  processors?: Record<string, unknown>;
  exporters?: Record<string, unknown>;
  connectors?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  service?: { extensions?: string[]; pipelines?: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }> };
};

/**
 * The collector's structure, as otelcol validates it at start: every component a pipeline or the service
 * names is defined (by its full id, `type/name`), a pipeline has receivers and exporters, its id is of a
 * known signal, and every defined component is used (an unused exporter is a pipeline someone forgot).
 */
function collectorProblems(c: Collector): string[] {
  const problems: string[] = [];
  const pipelines = Object.entries(c.service?.pipelines ?? {});
  if (pipelines.length === 0) problems.push("service.pipelines: none");
  const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
  for (const [id, p] of pipelines) {
    if (!/^(traces|metrics|logs)(\/[^/]+)?$/.test(id)) problems.push(`pipeline ${id}: not traces, metrics or logs`);
    if (!p.receivers?.length) problems.push(`pipeline ${id}: no receivers`);
    if (!p.exporters?.length) problems.push(`pipeline ${id}: no exporters`);
    for (const kind of ["receivers", "processors", "exporters"] as const) {
      for (const name of p[kind] ?? []) {
        used[kind].add(name);
        const defined = name in (c[kind] ?? {}) || (kind !== "processors" && name in (c.connectors ?? {}));
        if (!defined) problems.push(`pipeline ${id}: ${kind.slice(0, -1)} ${name} is not defined`);
      }
    }
  }
  for (const name of c.service?.extensions ?? []) if (!(name in (c.extensions ?? {}))) problems.push(`extension ${name} is not defined`);
  for (const kind of ["receivers", "processors", "exporters"] as const) {
    for (const name of Object.keys(c[kind] ?? {}))
      if (!used[kind].has(name)) problems.push(`${kind.slice(0, -1)} ${name} is defined but in no pipeline`);
  }
  return problems;
}

describe("deploy/docker-compose.yml", () => {
  it("runs Envoy, the mesh, PostgreSQL, Redis, Prometheus, Grafana, the OTel collector and Jaeger", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["envoy", "mlmesh", "worker", "postgres", "redis", "prometheus", "grafana", "otel-collector", "jaeger"]),
    );
  });

  it("runs workers apart from the API, on the same database and Redis, scraped by Prometheus", () => {
    const worker = compose.services.worker;
    expect((worker.command as string[]).slice(0, 4)).toEqual(["node", "dist/cli/main.js", "worker", "--concurrency"]);
    const env = worker.environment as Record<string, string>;
    const api = compose.services.mlmesh.environment as Record<string, string>;
    expect(env.DATABASE_URL).toBe(api.DATABASE_URL);
    expect(env.REDIS_URL).toBe(api.REDIS_URL);
    const prom = parse(readFileSync("deploy/prometheus/prometheus.yml", "utf8")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets))).toContain(`worker:${env.ADMIN_PORT}`);
  });

  it("runs Redis as BullMQ needs it: AOF and noeviction", () => {
    const cmd = (compose.services.redis.command as string[]).join(" ");
    expect(cmd).toContain("--appendonly yes");
    expect(cmd).toContain("--maxmemory-policy noeviction");
  });

  it("gives Envoy its config and the descriptor set at the path the config names", () => {
    const volumes = compose.services.envoy.volumes as string[];
    expect(volumes).toContain("../build/mlmesh.binpb:/etc/envoy/mlmesh.binpb:ro");
    expect(envoy).toContain("proto_descriptor: /etc/envoy/mlmesh.binpb");
  });

  it("wires Envoy's listener and upstream to the ports compose publishes and the mesh listens on", () => {
    type Addr = { socket_address: { address: string; port_value: number } };
    const cfg = parse(envoy) as {
      static_resources: {
        listeners: { address: Addr }[];
        clusters: { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: Addr } }[] }[] } }[];
      };
    };
    const listenerPorts = cfg.static_resources.listeners.map((l) => l.address.socket_address.port_value);
    const published = (compose.services.envoy.ports as string[]).map((p) => Number(p.split(":").at(-1)));
    for (const port of listenerPorts) expect(published).toContain(port);
    const upstream = cfg.static_resources.clusters.find((c) => c.name === "mlmesh_grpc")!.load_assignment.endpoints[0].lb_endpoints[0]
      .endpoint.address.socket_address;
    // Envoy reaches the mesh by its compose service name, on the mesh's gRPC port.
    expect(Object.keys(compose.services)).toContain(upstream.address);
    const env = compose.services[upstream.address].environment as Record<string, string>;
    expect(Number(env.GRPC_PORT)).toBe(upstream.port_value);
    // Envoy owns 8000 in compose; the mesh's own REST gateway must not collide with or be published on it.
    expect(Number(env.GATEWAY_PORT)).not.toBe(8000);
    expect((compose.services.mlmesh.ports as string[]).some((p) => p.endsWith(`:${env.GATEWAY_PORT}`) || p.startsWith("8000:"))).toBe(
      false,
    );
  });

  it("scrapes the mesh's admin port", () => {
    const prom = parse(readFileSync("deploy/prometheus/prometheus.yml", "utf8")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(targets).toContain(`mlmesh:${(compose.services.mlmesh.environment as Record<string, string>).ADMIN_PORT}`);
  });

  it("has a dashboard whose every query names metrics the mesh exports", async () => {
    const dashboard = JSON.parse(readFileSync("deploy/grafana/dashboards/mlmesh.json", "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const metrics = new MeshMetrics();
    new JobMetrics(metrics.registry);
    const queues = new JobQueues("redis://127.0.0.1:1", loadJobsConfig({}));
    registerQueueDepth(metrics.registry, queues);
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    await queues.close();
    const names = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(?:mlmesh|ml|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(names.length).toBeGreaterThan(8);
    for (const n of names) {
      const base = n.replace(/_(bucket|sum|count)$/, "");
      expect(exported.has(base) || exported.has(n), n).toBe(true);
    }
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join("|");
    for (const want of ["request rate", "latency", "error rate", "model memory", "cache hit rate", "batch", "queue depth"])
      expect(titles).toContain(want);
  });

  it("loads the mesh's alert rules beside its config, and every rule names metrics the mesh exports", async () => {
    const prom = parse(readFileSync("deploy/prometheus/prometheus.yml", "utf8")) as { rule_files: string[] };
    const volumes = compose.services.prometheus.volumes as string[];
    for (const f of prom.rule_files) expect(volumes).toContain(`./prometheus/${f}:/etc/prometheus/${f}:ro`);
    const rules = parse(readFileSync("deploy/prometheus/alert-rules.yml", "utf8")) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const metrics = new MeshMetrics();
    new JobMetrics(metrics.registry);
    const queues = new JobQueues("redis://127.0.0.1:1", loadJobsConfig({}));
    registerQueueDepth(metrics.registry, queues);
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    await queues.close();
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "MatchScoringLatencyHigh",
        "ErrorRateHigh",
        "JobQueueBacklog",
        "DeadLetterGrowing",
        "WorkerDown",
        "NoWorkerUp",
      ]),
    );
    for (const r of all) {
      for (const n of r.expr.match(/\b(?:mlmesh|ml|nodejs)_[a-z0-9_]+/g) ?? []) {
        expect(exported.has(n.replace(/_(bucket|sum|count)$/, "")) || exported.has(n), `${r.alert}: ${n}`).toBe(true);
      }
    }
    // The worker alerts match the scrape job compose gives the workers.
    const jobs = (parse(readFileSync("deploy/prometheus/prometheus.yml", "utf8")) as { scrape_configs: { job_name: string }[] })
      .scrape_configs;
    expect(jobs.map((j) => j.job_name).filter((j) => /^.*-worker$/.test(j))).toEqual(["mlmesh-worker"]);
  });

  it("keeps Envoy's admin port unpublished: it listens on loopback inside the container", () => {
    expect((compose.services.envoy.ports as string[]).some((p) => p.endsWith(":9901"))).toBe(false);
  });

  it("sends the mesh's and the workers' traces to the collector, which exports them to Jaeger", () => {
    const collector = parse(collectorText) as Collector;
    expect(collectorProblems(collector)).toEqual([]);
    const otlp = (collector.receivers!.otlp as { protocols: Record<string, { endpoint: string }> }).protocols;
    expect(otlp.grpc.endpoint).toBe("0.0.0.0:4317");
    expect(otlp.http.endpoint).toBe("0.0.0.0:4318");
    const svc = compose.services["otel-collector"];
    expect(svc.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    const config = (svc.command as string[]).find((a) => a.startsWith("--config="))!.slice("--config=".length);
    expect(svc.volumes).toContain(`./otel/collector.yaml:${config}:ro`);
    // The exporter reaches Jaeger's OTLP port by its compose name; Jaeger takes OTLP.
    const exporter = collector.exporters?.["otlp/jaeger"] as { endpoint: string };
    expect(exporter.endpoint).toBe("jaeger:4317");
    expect(compose.services.jaeger.image).toMatch(/^jaegertracing\/all-in-one:/);
    expect((compose.services.jaeger.environment as Record<string, string>).COLLECTOR_OTLP_ENABLED).toBe("true");
    const names = new Set<string>();
    for (const s of ["mlmesh", "worker"]) {
      const env = compose.services[s].environment as Record<string, string>;
      const url = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
      expect(Object.keys(compose.services)).toContain(url.hostname);
      expect(url.port).toBe(otlp.http.endpoint.split(":")[1]);
      expect(env.OTEL_SERVICE_NAME).toMatch(/^mlmesh/);
      names.add(env.OTEL_SERVICE_NAME);
    }
    expect(names.size).toBe(2);
  });

  it("tells a collector config whose pipelines name what it does not define", () => {
    const broken = parse(
      collectorText
        .replace("exporters: [otlp/jaeger]", "exporters: [otlp/jaegr]")
        .replace("processors: [memory_limiter, batch]", "processors: [batch]"),
    ) as Collector;
    expect(collectorProblems(broken)).toEqual([
      "pipeline traces: exporter otlp/jaegr is not defined",
      "processor memory_limiter is defined but in no pipeline",
      "exporter otlp/jaeger is defined but in no pipeline",
    ]);
    expect(collectorProblems(parse(collectorText.replace("extensions: [health_check]", "extensions: [pprof]")) as Collector)).toEqual([
      "extension pprof is not defined",
    ]);
  });
});
