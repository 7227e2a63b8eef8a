import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  HelmCheckError,
  buildRenderer,
  cases,
  chartDir,
  checkCase,
  checkEnvoy,
  checkMeshPods,
  checkNetworkPolicies,
  checkReferences,
  checkWorkerScaling,
  mergeValues,
  parseManifests,
  readValues,
  renderChart,
  validateManifest,
  valuesProblems,
  type Manifest,
  type RenderOptions,
} from "../../scripts/check-helm.js";

let scratch: string;
beforeAll(() => {
  buildRenderer();
  scratch = mkdtempSync(join(tmpdir(), "mlmesh-helm-test-"));
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const defaults = () => readValues(join(chartDir, "values.yaml"));
// values.yaml alone does not render (a release must name its database): the smallest values that do.
const devValues = join(chartDir, "ci/dev-values.yaml");
const production = join(chartDir, "ci/production-values.yaml");
const render = (o: RenderOptions = {}) => renderChart({ ...o, valuesFiles: [devValues, ...(o.valuesFiles ?? [])] });
const find = (ms: Manifest[], kind: string, name: string): Manifest => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`${kind} ${name} not rendered; have ${ms.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return m;
};
const errorOf = (fn: () => unknown): HelmCheckError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HelmCheckError);
    return e as HelmCheckError;
  }
  throw new Error("expected a HelmCheckError");
};
// Loose views of rendered objects for assertions.
// biome-ignore lint/suspicious/noExplicitAny: loose views of rendered objects, for assertions
type Any = Record<string, any>;
const podOf = (d: Manifest): Any => (d as Any).spec.template.spec;

describe("chart renders and validates", () => {
  it.each(cases)("$name passes values schema, render and Kubernetes validation", ({ name, valuesFile }) => {
    const r = checkCase(name, valuesFile);
    const kinds = new Set(r.manifests.map((m) => m.kind));
    for (const k of [
      "Deployment",
      "Service",
      "ConfigMap",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "ServiceMonitor",
      "ServiceAccount",
    ]) {
      expect(kinds, k).toContain(k);
    }
  });

  it("production values use the existing Secret and create none", () => {
    const { manifests } = checkCase(cases[1].name, cases[1].valuesFile);
    expect(manifests.some((m) => m.kind === "Secret")).toBe(false);
    const env = podOf(find(manifests, "Deployment", "mlmesh-inference")).containers[0].env as Any[];
    expect(env.find((e) => e.name === "DATABASE_URL")?.valueFrom.secretKeyRef).toEqual({ name: "mlmesh-credentials", key: "DATABASE_URL" });
    expect(env.find((e) => e.name === "REDIS_URL")?.valueFrom.secretKeyRef).toEqual({ name: "mlmesh-credentials", key: "REDIS_URL" });
    const volumes = podOf(find(manifests, "Deployment", "mlmesh-inference")).volumes as Any[];
    expect(volumes.find((v) => v.name === "api-keys")?.secret.secretName).toBe("mlmesh-credentials");
    const config = find(manifests, "ConfigMap", "mlmesh-config") as Any;
    expect(JSON.parse(config.data.MLMESH_MODEL_AB_WEIGHTS)).toEqual({ match: { serving: 0.9, "7": 0.1 } });
    expect(podOf(find(manifests, "Deployment", "mlmesh-worker")).containers[0].command).toEqual([
      "node",
      "dist/cli/main.js",
      "worker",
      "--concurrency",
      "8",
    ]);
  });
});

describe("values schema", () => {
  it("rejects a typo in a top-level key", () => {
    const problems = valuesProblems(mergeValues(defaults(), { inferance: { replicas: 3 } }));
    expect(problems.join("\n")).toMatch(/must NOT have additional properties "inferance"/);
  });

  it("rejects a typo inside a main section, through the whole check", () => {
    const file = join(scratch, "typo.yaml");
    writeFileSync(file, "worker:\n  concurency: 8\n");
    const e = errorOf(() => checkCase("typo", file));
    expect(e.stage).toBe("values");
    expect(e.message).toMatch(/\/worker must NOT have additional properties "concurency"/);
  });

  it("rejects wrong types and out-of-range values", () => {
    const problems = valuesProblems(
      mergeValues(defaults(), { inference: { autoscaling: { targetCPUUtilizationPercentage: 170 } }, config: { logLevel: "verbose" } }),
    );
    expect(problems.some((p) => p.startsWith("/inference/autoscaling/targetCPUUtilizationPercentage"))).toBe(true);
    expect(problems.some((p) => p.startsWith("/config/logLevel"))).toBe(true);
  });

  it("accepts the shipped values files", () => {
    expect(valuesProblems(mergeValues(defaults(), readValues(devValues)))).toEqual([]);
    expect(valuesProblems(mergeValues(defaults(), readValues(production)))).toEqual([]);
  });

  it("requires a database, Redis and a keys file of the chart's Secret, so no pod falls back to its own PGlite", () => {
    expect(valuesProblems(defaults())).toEqual([
      "/secret/databaseUrl must NOT have fewer than 1 characters",
      "/secret/redisUrl must NOT have fewer than 1 characters",
      "/secret/apiKeysFile must NOT have fewer than 1 characters",
      '/secret must match "then" schema',
    ]);
    expect(valuesProblems(mergeValues(defaults(), { secret: { existingSecret: "vault-creds" } }))).toEqual([]);
  });

  it("holds a production release to TLS at Envoy and reflection behind a key", () => {
    const prod = mergeValues(defaults(), readValues(production));
    expect(valuesProblems(mergeValues(prod, { envoy: { tls: { secretName: "" } } })).join("\n")).toMatch(
      /\/envoy\/tls\/secretName must NOT have fewer than 1 characters/,
    );
    expect(valuesProblems(mergeValues(prod, { config: { reflection: "on" } })).join("\n")).toMatch(
      /\/config\/reflection must be equal to one of the allowed values/,
    );
    expect(
      valuesProblems(mergeValues(prod, { production: false, config: { reflection: "on" }, envoy: { tls: { secretName: "" } } })),
    ).toEqual([]);
  });
});

describe("renderer (helm template semantics)", () => {
  it("fails rendering with the message of `required`: DATABASE_URL must be given", () => {
    const e = errorOf(() => renderChart());
    expect(e.stage).toBe("render");
    expect(e.message).toMatch(/execution error at \(mlmesh\/templates\/[a-z-]+\.yaml:\d+:\d+\): secret\.databaseUrl is required/);
    expect(errorOf(() => render({ set: ["secret.redisUrl=null"] })).message).toMatch(/secret\.redisUrl is required/);
    expect(() => renderChart({ set: ["secret.existingSecret=vault-creds"] })).not.toThrow();
  });

  it("refuses a production release without Envoy's TLS Secret or with reflection open to all", () => {
    expect(errorOf(() => renderChart({ valuesFiles: [production], set: ["envoy.tls.secretName="] })).message).toMatch(
      /production: envoy\.tls\.secretName is required/,
    );
    expect(errorOf(() => renderChart({ valuesFiles: [production], set: ["config.reflection=on"] })).message).toMatch(
      /production: config\.reflection must be key or off, not on/,
    );
  });

  it("applies --set over -f over values.yaml", () => {
    const file = join(scratch, "override.yaml");
    writeFileSync(file, "worker:\n  concurrency: 6\n  replicas: 2\n");
    const ms = parseManifests(render({ valuesFiles: [file], set: ["worker.concurrency=12"] }));
    const worker = find(ms, "Deployment", "mlmesh-worker") as Any;
    expect(worker.spec.replicas).toBe(2);
    expect(worker.spec.template.spec.containers[0].command.at(-1)).toBe("12");
  });

  it("drops disabled components", () => {
    const ms = parseManifests(render({ set: ["envoy.enabled=false,worker.enabled=false,serviceMonitor.enabled=false"] }));
    expect(ms.filter((m) => m.kind === "Deployment").map((m) => m.metadata.name)).toEqual(["mlmesh-inference"]);
    expect(ms.some((m) => m.kind === "ServiceMonitor")).toBe(false);
    expect(ms.filter((m) => m.kind === "Service").map((m) => m.metadata.name)).toEqual(["mlmesh-inference", "mlmesh-inference-headless"]);
    expect(ms.filter((m) => m.kind === "NetworkPolicy").map((m) => m.metadata.name)).toEqual(["mlmesh-inference"]);
  });

  it("builds the descriptor ConfigMap from the chart's files/ via .Files.Get", () => {
    const chart = join(scratch, "chart");
    cpSync(chartDir, chart, { recursive: true });
    mkdirSync(join(chart, "files"), { recursive: true });
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    writeFileSync(join(chart, "files/mlmesh.binpb"), bytes);
    const ms = parseManifests(render({ chart, set: ["envoy.descriptor.source=chart"] }));
    const cm = find(ms, "ConfigMap", "mlmesh-envoy-descriptors") as Any;
    expect(Buffer.from(cm.binaryData["mlmesh.binpb"], "base64").equals(bytes)).toBe(true);
    const volumes = podOf(find(ms, "Deployment", "mlmesh-envoy")).volumes as Any[];
    expect(volumes.find((v) => v.name === "descriptors")?.configMap.name).toBe("mlmesh-envoy-descriptors");

    rmSync(join(chart, "files/mlmesh.binpb"));
    expect(errorOf(() => render({ chart, set: ["envoy.descriptor.source=chart"] })).message).toMatch(/needs files\/mlmesh\.binpb/);
  });

  it("provides Helm's functions and built-in objects", () => {
    const chart = join(scratch, "functions");
    cpSync(chartDir, chart, { recursive: true });
    writeFileSync(
      join(chart, "templates/zz-probe.yaml"),
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: probe",
        "data:",
        '  tpl: {{ tpl "{{ .Release.Name }}-{{ .Values.inference.ports.grpc }}" . | quote }}',
        '  lookup: {{ lookup "v1" "Secret" "ns" "x" | len | quote }}',
        "  roundtrip: {{ (fromYaml (toYaml .Values.inference.ports)).grpc | quote }}",
        "  kube: {{ .Capabilities.KubeVersion.Version | quote }}",
        '  hpa: {{ .Capabilities.APIVersions.Has "autoscaling/v2" | quote }}',
        '  crd: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}',
        '  missing: "{{ .Values.notAKey }}"',
        "  ns: {{ .Release.Namespace }}",
        '  full: {{ include "mlmesh.fullname" . }}',
        "  json: {{ toJson .Values.inference.ports | quote }}",
        '  readme: {{ .Files.Get "README.md" | len | quote }}',
        '  note: {{ .Files.Get "files/note.txt" | trim | quote }}',
        "",
      ].join("\n"),
    );
    mkdirSync(join(chart, "files"), { recursive: true });
    writeFileSync(join(chart, "files/note.txt"), "hello\n");
    const probe = find(
      parseManifests(render({ chart, release: "rel", namespace: "ns1", kubeVersion: "v1.30.1" })),
      "ConfigMap",
      "probe",
    ) as Any;
    expect(probe.data).toEqual({
      tpl: "rel-50051",
      lookup: "0",
      roundtrip: "50051",
      kube: "v1.30.1",
      hpa: "true",
      crd: "false",
      missing: "",
      ns: "ns1",
      full: "rel-mlmesh",
      json: '{"admin":9464,"connect":8080,"grpc":50051}',
      // README.md is in .helmignore, so it is not among .Files.
      readme: "0",
      note: "hello",
    });
  });

  it("enforces Chart.yaml's kubeVersion", () => {
    expect(errorOf(() => render({ kubeVersion: "v1.25.3" })).message).toMatch(
      /requires kubeVersion: >=1\.27\.0-0 which is incompatible with Kubernetes v1\.25\.3/,
    );
  });

  it("fails like Helm on a template that renders invalid YAML", () => {
    const chart = join(scratch, "broken");
    cpSync(chartDir, chart, { recursive: true });
    writeFileSync(join(chart, "templates/zz-broken.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n labels: {}\n");
    expect(errorOf(() => render({ chart })).message).toMatch(/YAML parse error on mlmesh\/templates\/zz-broken\.yaml/);
  });

  it("points Envoy's cluster at the headless inference Service in the release namespace, so it reaches every pod", () => {
    const ms = parseManifests(render({ namespace: "prod" }));
    const envoyYaml = (find(ms, "ConfigMap", "mlmesh-envoy") as Any).data["envoy.yaml"] as string;
    expect(envoyYaml).toContain("address: mlmesh-inference-headless.prod.svc.cluster.local, port_value: 50051");
    expect(envoyYaml).toContain("- mlmesh.match.v1.MatchScoringService");
    expect((find(ms, "Service", "mlmesh-inference-headless") as Any).spec.clusterIP).toBe("None");
    expect(() => checkEnvoy(ms, readValues(devValues))).not.toThrow();
    // Through a ClusterIP, each of Envoy's HTTP/2 connections would stay on one pod.
    const clusterIp = structuredClone(ms) as Any[];
    delete (find(clusterIp as Manifest[], "Service", "mlmesh-inference-headless") as Any).spec.clusterIP;
    expect(() => checkEnvoy(clusterIp as Manifest[], readValues(devValues))).toThrow(
      /through its ClusterIP, which pins each connection to one pod/,
    );
    const logical = structuredClone(ms) as Any[];
    const cm = logical.find((m) => m.kind === "ConfigMap" && m.metadata.name === "mlmesh-envoy")!;
    cm.data["envoy.yaml"] = cm.data["envoy.yaml"].replace("type: STRICT_DNS", "type: LOGICAL_DNS");
    expect(() => checkEnvoy(logical as Manifest[], readValues(devValues))).toThrow(/LOGICAL_DNS reaches one address at a time/);
  });

  it("terminates TLS at Envoy with the Secret's certificate, mounted into its pods, and keeps the admin interface on loopback", () => {
    const ms = parseManifests(renderChart({ valuesFiles: [production] }));
    const envoyYaml = parseYaml((find(ms, "ConfigMap", "mlmesh-envoy") as Any).data["envoy.yaml"]) as Any;
    expect(envoyYaml.admin.address.socket_address.address).toBe("127.0.0.1");
    const rest = envoyYaml.static_resources.listeners.find((l: Any) => l.name === "rest");
    const tls = rest.filter_chains[0].transport_socket.typed_config;
    expect(tls["@type"]).toBe("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
    expect(tls.common_tls_context.tls_certificates).toEqual([
      { certificate_chain: { filename: "/etc/envoy/tls/tls.crt" }, private_key: { filename: "/etc/envoy/tls/tls.key" } },
    ]);
    const pod = podOf(find(ms, "Deployment", "mlmesh-envoy"));
    expect(pod.volumes.find((v: Any) => v.name === "tls")).toEqual({ name: "tls", secret: { secretName: "api-mlmesh-tls" } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/envoy/tls", readOnly: true });
    // The kubelet cannot reach a loopback admin port: readiness asks the health listener.
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: "/ready", port: "health" });
    // A LoadBalancer Service keeps the client's address, which the rate limit keys on.
    expect((find(ms, "Service", "mlmesh-envoy") as Any).spec.externalTrafficPolicy).toBe("Local");
    const values = mergeValues(defaults(), readValues(production));
    expect(() => checkEnvoy(ms, values)).not.toThrow();
    const plaintext = structuredClone(ms) as Any[];
    const cm = plaintext.find((m) => m.kind === "ConfigMap" && m.metadata.name === "mlmesh-envoy")!;
    cm.data["envoy.yaml"] = cm.data["envoy.yaml"].replace(/\n\s+transport_socket:[\s\S]*?(?=\n\s+filters:)/, "");
    expect(() => checkEnvoy(plaintext as Manifest[], values)).toThrow(/listener rest: no DownstreamTlsContext transport socket/);
    const unmounted = structuredClone(ms) as Any[];
    podOf(find(unmounted as Manifest[], "Deployment", "mlmesh-envoy")).volumes.find((v: Any) => v.name === "tls").secret.secretName =
      "other";
    expect(() => checkEnvoy(unmounted as Manifest[], values)).toThrow(
      /Envoy reads \/etc\/envoy\/tls\/tls\.crt, which is not mounted from the Secret api-mlmesh-tls/,
    );
  });

  it("rate-limits each client address at Envoy, not each connection", () => {
    const envoyYaml = parseYaml((find(parseManifests(render()), "ConfigMap", "mlmesh-envoy") as Any).data["envoy.yaml"]) as Any;
    const rest = envoyYaml.static_resources.listeners.find((l: Any) => l.name === "rest");
    const hcm = rest.filter_chains[0].filters[0].typed_config;
    const limiter = hcm.http_filters.find((f: Any) => f.name === "envoy.filters.http.local_ratelimit").typed_config;
    expect(limiter.local_rate_limit_per_downstream_connection).toBeUndefined();
    expect(limiter.descriptors).toEqual([
      { entries: [{ key: "remote_address" }], token_bucket: { max_tokens: 20, tokens_per_fill: 20, fill_interval: "1s" } },
    ]);
    expect(hcm.route_config.virtual_hosts[0].routes[0].route.rate_limits).toEqual([{ actions: [{ remote_address: {} }] }]);
    expect(hcm.use_remote_address).toBe(true);
  });

  it("carries the same alert rules as compose's Prometheus", () => {
    const rule = find(parseManifests(render()), "PrometheusRule", "mlmesh") as Any;
    const compose = parseYaml(readFileSync("deploy/prometheus/alert-rules.yml", "utf8")) as Any;
    expect(rule.spec.groups).toEqual(compose.groups);
    expect(rule.spec.groups.flatMap((g: Any) => g.rules.map((r: Any) => r.alert))).toContain("DeadLetterGrowing");
  });
});

describe("Kubernetes validation", () => {
  it("rejects a Deployment whose replicas is a string", () => {
    const ms = parseManifests(render({ set: ["inference.autoscaling.enabled=false,inference.replicas=three"] }));
    const d = find(ms, "Deployment", "mlmesh-inference") as Any;
    expect(d.spec.replicas).toBe("three");
    expect(() => validateManifest(d as Manifest)).toThrow(/Deployment mlmesh-inference: .*spec\/replicas must be integer/);
  });

  it("rejects a probe port of the wrong type", () => {
    const d = structuredClone(find(parseManifests(render()), "Deployment", "mlmesh-inference")) as Any;
    d.spec.template.spec.containers[0].readinessProbe.grpc.port = "grpc";
    expect(() => validateManifest(d as Manifest)).toThrow(/readinessProbe\/grpc\/port must be integer/);
  });

  it("rejects a misspelt field that the schema does not have", () => {
    const d = structuredClone(find(parseManifests(render()), "Deployment", "mlmesh-worker")) as Any;
    const c = d.spec.template.spec.containers[0];
    c.livenesProbe = c.livenessProbe;
    delete c.livenessProbe;
    expect(() => validateManifest(d as Manifest)).toThrow(/unknown field\(s\) spec\.template\.spec\.containers\[0\]\.livenesProbe$/);
  });

  it("accepts free-form maps such as labels, annotations and ConfigMap data", () => {
    const cm = structuredClone(find(parseManifests(render({ set: ["config.extra.FEATURE_X=on"] })), "ConfigMap", "mlmesh-config")) as Any;
    expect(cm.data.FEATURE_X).toBe("on");
    cm.metadata.annotations = { "example.com/any-key": "v" };
    expect(() => validateManifest(cm as Manifest)).not.toThrow();
  });

  it("validates the ServiceMonitor against the Prometheus Operator schema", () => {
    const sm = structuredClone(find(parseManifests(render()), "ServiceMonitor", "mlmesh")) as Any;
    expect(() => validateManifest(sm as Manifest)).not.toThrow();
    sm.spec.endpoints = "admin";
    expect(() => validateManifest(sm as Manifest)).toThrow(/ServiceMonitor mlmesh: .*spec\/endpoints must be array/);
  });

  it("rejects an unknown kind", () => {
    const m = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "x" } } as Manifest;
    expect(() => validateManifest(m)).toThrow(/unknown kind networking\.k8s\.io\/v1\/Ingress/);
  });

  it("rejects a dangling Secret reference", () => {
    const ms = parseManifests(render({ set: ["secret.existingSecret=vault-creds"] }));
    expect(ms.some((m) => m.kind === "Secret")).toBe(false);
    expect(() => checkReferences(ms)).toThrow(/Secret vault-creds is neither rendered nor declared external/);
    expect(() => checkReferences(ms, { externalSecrets: ["vault-creds"] })).not.toThrow();
  });
});

describe("defaults", () => {
  const ms = () => parseManifests(render());

  it("autoscales the inference core from 2 to 20 pods at 70% CPU", () => {
    const hpa = find(ms(), "HorizontalPodAutoscaler", "mlmesh-inference") as Any;
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(20);
    expect(hpa.spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "mlmesh-inference" });
    // The HPA owns the replica count: a fixed one would fight it on every upgrade.
    expect((find(ms(), "Deployment", "mlmesh-inference") as Any).spec.replicas).toBeUndefined();
  });

  it("probes the inference core: startup until the first fit is over, readiness over gRPC health, liveness on /healthz", () => {
    const c = podOf(find(ms(), "Deployment", "mlmesh-inference")).containers[0];
    expect(c.startupProbe).toEqual({
      httpGet: { path: "/readyz", port: "admin" },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 60,
    });
    expect(c.readinessProbe.grpc).toEqual({ port: 50051, service: "" });
    // gRPC health says NOT_SERVING while models load: as liveness it would kill a pod still fitting its first model.
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
    expect(c.command).toEqual(["node", "dist/cli/main.js", "serve"]);
    expect(c.ports.map((p: Any) => [p.name, p.containerPort])).toEqual([
      ["grpc", 50051],
      ["connect", 8080],
      ["admin", 9464],
    ]);
  });

  it("checks worker liveness over HTTP on the admin port, failing when a queue's fetch loop has died", () => {
    const c = podOf(find(ms(), "Deployment", "mlmesh-worker")).containers[0];
    expect(c.livenessProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
    expect(c.startupProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
    expect(c.command).toEqual(["node", "dist/cli/main.js", "worker", "--concurrency", "4"]);
    expect(c.ports).toEqual([{ name: "admin", containerPort: 9464, protocol: "TCP" }]);
  });

  it("runs every container non-root on a read-only root filesystem", () => {
    for (const d of ms().filter((m) => m.kind === "Deployment")) {
      const pod = podOf(d);
      expect(pod.securityContext.runAsNonRoot, d.metadata.name).toBe(true);
      expect(pod.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThan(0);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect(c.securityContext.readOnlyRootFilesystem, `${d.metadata.name}/${c.name}`).toBe(true);
        expect(c.securityContext.allowPrivilegeEscalation, `${d.metadata.name}/${c.name}`).toBe(false);
      }
    }
  });
});

describe("mesh pods", () => {
  const ms = () => parseManifests(render());
  const envOf = (m: Manifest[], name: string) => podOf(find(m, "Deployment", name)).containers[0].env as Any[];

  it("take DATABASE_URL and REDIS_URL from the Secret, DATABASE_URL not optional", () => {
    for (const name of ["mlmesh-inference", "mlmesh-worker"]) {
      const env = envOf(ms(), name);
      expect(env.find((e) => e.name === "DATABASE_URL")!.valueFrom.secretKeyRef, name).toEqual({ name: "mlmesh", key: "DATABASE_URL" });
      expect(env.find((e) => e.name === "REDIS_URL")!.valueFrom.secretKeyRef, name).toEqual({ name: "mlmesh", key: "REDIS_URL" });
    }
    expect((find(ms(), "ConfigMap", "mlmesh-config") as Any).data.REDIS_URL).toBeUndefined();
    const optional = structuredClone(ms()) as Any[];
    envOf(optional as Manifest[], "mlmesh-worker").find((e) => e.name === "DATABASE_URL")!.valueFrom.secretKeyRef.optional = true;
    expect(() => checkMeshPods(optional as Manifest[], {})).toThrow(/mlmesh-worker: DATABASE_URL is optional/);
  });

  it("read the API keys from a file of the Secret, mounted as a directory so changes reach them", () => {
    const m = ms();
    for (const name of ["mlmesh-inference", "mlmesh-worker"]) {
      expect(envOf(m, name).find((e) => e.name === "MLMESH_API_KEYS_FILE")!.value).toBe("/etc/mlmesh/api-keys/api-keys");
      expect(podOf(find(m, "Deployment", name)).volumes).toContainEqual({
        name: "api-keys",
        secret: { secretName: "mlmesh", items: [{ key: "api-keys", path: "api-keys" }] },
      });
    }
    expect(JSON.parse((find(m, "Secret", "mlmesh") as Any).stringData["api-keys"])[0].scopes).toContain("infer");
    expect(() => checkMeshPods(m, {})).not.toThrow();
    const subPath = structuredClone(m) as Any[];
    const c = podOf(find(subPath as Manifest[], "Deployment", "mlmesh-inference")).containers[0];
    c.volumeMounts.find((v: Any) => v.name === "api-keys").subPath = "api-keys";
    expect(() => checkMeshPods(subPath as Manifest[], {})).toThrow(/mounted with subPath, which never sees the Secret change/);
    const grpcLiveness = structuredClone(m) as Any[];
    podOf(find(grpcLiveness as Manifest[], "Deployment", "mlmesh-inference")).containers[0].livenessProbe = { grpc: { port: 50051 } };
    expect(() => checkMeshPods(grpcLiveness as Manifest[], {})).toThrow(/liveness must be \/healthz/);
  });

  it("set reflection and the OpenTelemetry service names and endpoint", () => {
    const m = parseManifests(renderChart({ valuesFiles: [production] }));
    expect((find(m, "ConfigMap", "mlmesh-config") as Any).data.MLMESH_REFLECTION).toBe("key");
    const value = (name: string, key: string) => envOf(m, name).find((e) => e.name === key)?.value;
    expect(value("mlmesh-inference", "OTEL_SERVICE_NAME")).toBe("mlmesh");
    expect(value("mlmesh-worker", "OTEL_SERVICE_NAME")).toBe("mlmesh-worker");
    expect(value("mlmesh-worker", "OTEL_EXPORTER_OTLP_ENDPOINT")).toBe("http://otel-collector.observability.svc.cluster.local:4318");
    expect(envOf(ms(), "mlmesh-inference").some((e) => e.name === "OTEL_EXPORTER_OTLP_ENDPOINT")).toBe(false);
  });
});

describe("network policies", () => {
  const policy = (ms: Manifest[], name: string) => (find(ms, "NetworkPolicy", name) as Any).spec;

  it("let only Envoy and the listed clients call the inference core, and Prometheus scrape it", () => {
    const ms = parseManifests(renderChart({ valuesFiles: [production] }));
    const ingress = policy(ms, "mlmesh-inference").ingress;
    expect(ingress[0].from[0]).toEqual({
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "mlmesh", "app.kubernetes.io/instance": "mlmesh", "app.kubernetes.io/component": "envoy" },
      },
    });
    expect(ingress[0].from[1].podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "trip-planner" });
    expect(ingress[0].ports).toEqual([
      { port: "grpc", protocol: "TCP" },
      { port: "connect", protocol: "TCP" },
    ]);
    expect(ingress[1]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ port: "admin", protocol: "TCP" }],
    });
    const egressPorts = policy(ms, "mlmesh-inference").egress.map((r: Any) => r.ports.map((p: Any) => p.port));
    expect(egressPorts).toEqual([[53, 53], [5432], [6379], [4317, 4318]]);
    expect(() => checkNetworkPolicies(ms)).not.toThrow();
  });

  it("let nothing but the metrics scrape reach a worker", () => {
    const ms = parseManifests(render());
    expect(policy(ms, "mlmesh-worker").ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
        ports: [{ port: "admin", protocol: "TCP" }],
      },
    ]);
    const open = structuredClone(ms) as Any[];
    open.find((m) => m.kind === "NetworkPolicy" && m.metadata.name === "mlmesh-worker")!.spec.ingress.push({ ports: [{ port: "admin" }] });
    expect(() => checkNetworkPolicies(open as Manifest[])).toThrow(/mlmesh-worker: an ingress rule without `from` admits every pod/);
    const gone = (structuredClone(ms) as Any[]).filter((m) => !(m.kind === "NetworkPolicy" && m.metadata.name === "mlmesh-worker"));
    expect(() => checkNetworkPolicies(gone as Manifest[])).toThrow(/mlmesh-worker: no NetworkPolicy selects its pods/);
  });

  it("leave out the callers' rule rather than admit everyone when there is neither Envoy nor a client", () => {
    const ms = parseManifests(render({ set: ["envoy.enabled=false"] }));
    expect(policy(ms, "mlmesh-inference").ingress.map((r: Any) => r.ports[0].port)).toEqual(["admin"]);
    expect(() => checkNetworkPolicies(ms)).not.toThrow();
  });
});

describe("workers scaled by queue depth (KEDA)", () => {
  const scaled = () => parseManifests(render({ set: ["worker.autoscaling.enabled=true"] }));
  const scaledObject = (ms: Manifest[]) => structuredClone(find(ms, "ScaledObject", "mlmesh-worker")) as Any;

  it("is off by default, and the worker Deployment keeps its replicas", () => {
    const ms = parseManifests(render());
    expect(ms.some((m) => m.kind === "ScaledObject")).toBe(false);
    expect((find(ms, "Deployment", "mlmesh-worker") as Any).spec.replicas).toBe(1);
  });

  it("scales the worker Deployment on the exported queue depth, per release, and leaves it no replicas to fight over", () => {
    const ms = scaled();
    const so = scaledObject(ms);
    expect(() => validateManifest(so as Manifest)).not.toThrow();
    expect(() => checkReferences(ms)).not.toThrow();
    expect(() => checkWorkerScaling(ms)).not.toThrow();
    expect(so.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "mlmesh-worker" });
    expect(so.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 10 });
    const [trigger] = so.spec.triggers;
    expect(trigger).toMatchObject({ type: "prometheus", metricType: "AverageValue", metadata: { threshold: "8" } });
    expect(trigger.metadata.query).toContain('mlmesh_queue_jobs{namespace="mlmesh"');
    expect(trigger.metadata.query).toContain('state=~"waiting|prioritized|active"');
    expect((find(ms, "Deployment", "mlmesh-worker") as Any).spec.replicas).toBeUndefined();
  });

  it("fails the check on a broken copy: CRD schema, target, trigger, query", () => {
    const ms = scaled();
    const broken = (edit: (so: Any) => void) => {
      const so = scaledObject(ms);
      edit(so);
      return [...ms.filter((m) => m.kind !== "ScaledObject"), so as Manifest];
    };
    const misspelt = scaledObject(ms);
    misspelt.spec.maxReplicas = 10;
    expect(() => validateManifest(misspelt as Manifest)).toThrow(/ScaledObject mlmesh-worker: unknown field\(s\) spec.maxReplicas/);
    const untyped = scaledObject(ms);
    untyped.spec.triggers = "prometheus";
    expect(() => validateManifest(untyped as Manifest)).toThrow(/ScaledObject mlmesh-worker: .*triggers must be array/);
    expect(() => checkReferences(broken((so) => (so.spec.scaleTargetRef.name = "mlmesh-workers")))).toThrow(
      /target Deployment mlmesh-workers is not rendered/,
    );
    const query = (q: string) => broken((so) => (so.spec.triggers[0].metadata.query = q));
    expect(() => checkWorkerScaling(query('sum(mlmesh_queue_depth{namespace="mlmesh"})'))).toThrow(
      /mlmesh_queue_depth, which the mesh does not export/,
    );
    expect(() => checkWorkerScaling(query('sum(mlmesh_queue_jobs{namespace="mlmesh", state=~"waiting|queued"})'))).toThrow(/state queued/);
    expect(() => checkWorkerScaling(query('sum(mlmesh_queue_jobs{namespace="other"})'))).toThrow(/release's namespace mlmesh/);
    expect(() => checkWorkerScaling(query('sum(max by (queue) (mlmesh_queue_jobs{namespace="mlmesh"})'))).toThrow(/does not parse/);
    expect(() => checkWorkerScaling(broken((so) => (so.spec.triggers[0].metadata.threshold = "0")))).toThrow(/threshold "0"/);
    expect(() => checkWorkerScaling(broken((so) => (so.spec.triggers[0].metadata.serverAddress = "prometheus:9090")))).toThrow(
      /not an http\(s\) URL/,
    );
    expect(() => checkWorkerScaling(broken((so) => (so.spec.minReplicaCount = 0)))).toThrow(/at least 1/);
    const withReplicas = ms.map((m) =>
      m.kind === "Deployment" && m.metadata.name === "mlmesh-worker"
        ? ({ ...m, spec: { ...(m as Any).spec, replicas: 2 } } as Manifest)
        : m,
    );
    expect(() => checkWorkerScaling(withReplicas)).toThrow(/sets replicas/);
  });

  it("refuses values that cannot work: min above max, no Prometheus scrape, a minimum of zero", () => {
    expect(() =>
      render({ set: ["worker.autoscaling.enabled=true", "worker.autoscaling.minReplicas=5", "worker.autoscaling.maxReplicas=2"] }),
    ).toThrow(/minReplicas \(5\) must not exceed maxReplicas \(2\)/);
    expect(() => render({ set: ["worker.autoscaling.enabled=true", "serviceMonitor.enabled=false"] })).toThrow(
      /needs serviceMonitor.enabled/,
    );
    const values = mergeValues(defaults(), { worker: { autoscaling: { minReplicas: 0 } } });
    expect(valuesProblems(values).join("\n")).toMatch(/worker\/autoscaling\/minReplicas must be >= 1/);
  });
});
