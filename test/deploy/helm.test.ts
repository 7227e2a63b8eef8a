import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HelmCheckError,
  buildRenderer,
  cases,
  chartDir,
  checkCase,
  checkReferences,
  mergeValues,
  parseManifests,
  readValues,
  renderChart,
  validateManifest,
  valuesProblems,
  type Manifest,
} from "../../scripts/check-helm.js";

let scratch: string;
beforeAll(() => {
  buildRenderer();
  scratch = mkdtempSync(join(tmpdir(), "mlmesh-helm-test-"));
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const defaults = () => readValues(join(chartDir, "values.yaml"));
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
    expect(env.find((e) => e.name === "MLMESH_API_KEYS")?.valueFrom.secretKeyRef.name).toBe("mlmesh-credentials");
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

  it("accepts the shipped values", () => {
    expect(valuesProblems(defaults())).toEqual([]);
  });
});

describe("renderer (helm template semantics)", () => {
  it("fails rendering with the message of `required`", () => {
    const e = errorOf(() => renderChart({ set: ["config.redisUrl=null"] }));
    expect(e.stage).toBe("render");
    expect(e.message).toMatch(/execution error at \(mlmesh\/templates\/configmap\.yaml:\d+:\d+\): config\.redisUrl is required/);
  });

  it("applies --set over -f over values.yaml", () => {
    const file = join(scratch, "override.yaml");
    writeFileSync(file, "worker:\n  concurrency: 6\n  replicas: 2\n");
    const ms = parseManifests(renderChart({ valuesFiles: [file], set: ["worker.concurrency=12"] }));
    const worker = find(ms, "Deployment", "mlmesh-worker") as Any;
    expect(worker.spec.replicas).toBe(2);
    expect(worker.spec.template.spec.containers[0].command.at(-1)).toBe("12");
  });

  it("drops disabled components", () => {
    const ms = parseManifests(renderChart({ set: ["envoy.enabled=false,worker.enabled=false,serviceMonitor.enabled=false"] }));
    expect(ms.filter((m) => m.kind === "Deployment").map((m) => m.metadata.name)).toEqual(["mlmesh-inference"]);
    expect(ms.some((m) => m.kind === "ServiceMonitor")).toBe(false);
    expect(ms.filter((m) => m.kind === "Service").map((m) => m.metadata.name)).toEqual(["mlmesh-inference"]);
  });

  it("builds the descriptor ConfigMap from the chart's files/ via .Files.Get", () => {
    const chart = join(scratch, "chart");
    cpSync(chartDir, chart, { recursive: true });
    mkdirSync(join(chart, "files"), { recursive: true });
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    writeFileSync(join(chart, "files/mlmesh.binpb"), bytes);
    const ms = parseManifests(renderChart({ chart, set: ["envoy.descriptor.source=chart"] }));
    const cm = find(ms, "ConfigMap", "mlmesh-envoy-descriptors") as Any;
    expect(Buffer.from(cm.binaryData["mlmesh.binpb"], "base64").equals(bytes)).toBe(true);
    const volumes = podOf(find(ms, "Deployment", "mlmesh-envoy")).volumes as Any[];
    expect(volumes.find((v) => v.name === "descriptors")?.configMap.name).toBe("mlmesh-envoy-descriptors");

    rmSync(join(chart, "files/mlmesh.binpb"));
    expect(errorOf(() => renderChart({ chart, set: ["envoy.descriptor.source=chart"] })).message).toMatch(/needs files\/mlmesh\.binpb/);
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
      parseManifests(renderChart({ chart, release: "rel", namespace: "ns1", kubeVersion: "v1.30.1" })),
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
    expect(errorOf(() => renderChart({ kubeVersion: "v1.25.3" })).message).toMatch(
      /requires kubeVersion: >=1\.27\.0-0 which is incompatible with Kubernetes v1\.25\.3/,
    );
  });

  it("fails like Helm on a template that renders invalid YAML", () => {
    const chart = join(scratch, "broken");
    cpSync(chartDir, chart, { recursive: true });
    writeFileSync(join(chart, "templates/zz-broken.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n labels: {}\n");
    expect(errorOf(() => renderChart({ chart })).message).toMatch(/YAML parse error on mlmesh\/templates\/zz-broken\.yaml/);
  });

  it("points Envoy's cluster at the inference Service in the release namespace", () => {
    const ms = parseManifests(renderChart({ namespace: "prod" }));
    const envoyYaml = (find(ms, "ConfigMap", "mlmesh-envoy") as Any).data["envoy.yaml"] as string;
    expect(envoyYaml).toContain("address: mlmesh-inference.prod.svc.cluster.local, port_value: 50051");
    expect(envoyYaml).toContain("- mlmesh.match.v1.MatchScoringService");
  });
});

describe("Kubernetes validation", () => {
  it("rejects a Deployment whose replicas is a string", () => {
    const ms = parseManifests(renderChart({ set: ["inference.autoscaling.enabled=false,inference.replicas=three"] }));
    const d = find(ms, "Deployment", "mlmesh-inference") as Any;
    expect(d.spec.replicas).toBe("three");
    expect(() => validateManifest(d as Manifest)).toThrow(/Deployment mlmesh-inference: .*spec\/replicas must be integer/);
  });

  it("rejects a probe port of the wrong type", () => {
    const d = structuredClone(find(parseManifests(renderChart()), "Deployment", "mlmesh-inference")) as Any;
    d.spec.template.spec.containers[0].livenessProbe.grpc.port = "grpc";
    expect(() => validateManifest(d as Manifest)).toThrow(/livenessProbe\/grpc\/port must be integer/);
  });

  it("rejects a misspelt field that the schema does not have", () => {
    const d = structuredClone(find(parseManifests(renderChart()), "Deployment", "mlmesh-worker")) as Any;
    const c = d.spec.template.spec.containers[0];
    c.livenesProbe = c.livenessProbe;
    delete c.livenessProbe;
    expect(() => validateManifest(d as Manifest)).toThrow(/unknown field\(s\) spec\.template\.spec\.containers\[0\]\.livenesProbe$/);
  });

  it("accepts free-form maps such as labels, annotations and ConfigMap data", () => {
    const cm = structuredClone(
      find(parseManifests(renderChart({ set: ["config.extra.FEATURE_X=on"] })), "ConfigMap", "mlmesh-config"),
    ) as Any;
    expect(cm.data.FEATURE_X).toBe("on");
    cm.metadata.annotations = { "example.com/any-key": "v" };
    expect(() => validateManifest(cm as Manifest)).not.toThrow();
  });

  it("validates the ServiceMonitor against the Prometheus Operator schema", () => {
    const sm = structuredClone(find(parseManifests(renderChart()), "ServiceMonitor", "mlmesh")) as Any;
    expect(() => validateManifest(sm as Manifest)).not.toThrow();
    sm.spec.endpoints = "admin";
    expect(() => validateManifest(sm as Manifest)).toThrow(/ServiceMonitor mlmesh: .*spec\/endpoints must be array/);
  });

  it("rejects an unknown kind", () => {
    const m = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "x" } } as Manifest;
    expect(() => validateManifest(m)).toThrow(/unknown kind networking\.k8s\.io\/v1\/Ingress/);
  });

  it("rejects a dangling Secret reference", () => {
    const ms = parseManifests(renderChart({ set: ["secret.existingSecret=vault-creds"] }));
    expect(ms.some((m) => m.kind === "Secret")).toBe(false);
    expect(() => checkReferences(ms)).toThrow(/Secret vault-creds is neither rendered nor declared external/);
    expect(() => checkReferences(ms, { externalSecrets: ["vault-creds"] })).not.toThrow();
  });
});

describe("defaults", () => {
  const ms = () => parseManifests(renderChart());

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

  it("probes the inference core with native gRPC health checks on 50051", () => {
    const c = podOf(find(ms(), "Deployment", "mlmesh-inference")).containers[0];
    expect(c.readinessProbe.grpc).toEqual({ port: 50051, service: "" });
    expect(c.livenessProbe.grpc).toEqual({ port: 50051 });
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
