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

describe("deploy/docker-compose.yml", () => {
  it("runs Envoy, the mesh, PostgreSQL, Redis, Prometheus and Grafana", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["envoy", "mlmesh", "worker", "postgres", "redis", "prometheus", "grafana"]),
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
});
