/**
 * Offline check of the Helm chart helm/mlmesh: values against values.schema.json (ajv, as
 * `helm install` does), then `helm template` through build/helm-render (Go text/template +
 * sprig, Helm's engine rebuilt), then every rendered object against Kubernetes' OpenAPI
 * schemas (kubernetes-models). Exits non-zero on any problem.
 *
 * Usage: npx tsx scripts/check-helm.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { decodeBootstrap, envoyPolicyProblems } from "./check-envoy.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const chartDir = join(repoRoot, "helm/mlmesh");
export const rendererPath = join(repoRoot, "build/helm-render");
const rendererSource = join(repoRoot, "tools/helm-render");

/** A chart problem: bad values, a failed render, or an object Kubernetes would reject. */
export class HelmCheckError extends Error {
  override readonly name = "HelmCheckError";
  constructor(
    readonly stage: "build" | "values" | "render" | "parse" | "kubernetes",
    message: string,
  ) {
    super(`${stage}: ${message}`);
  }
}

export type Values = Record<string, unknown>;
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * GOPATH mode against Debian's packaged Go sources (golang-github-masterminds-sprig-dev,
 * golang-gopkg-yaml.v2-dev, golang-gopkg-yaml.v3-dev): no module proxy is reachable here.
 */
export function rendererBuildEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPATH: "/usr/share/gocode",
    GO111MODULE: "off",
    GOFLAGS: "",
    GOPROXY: "off",
    GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "mlmesh-helm-gocache"),
  };
}

/** Builds build/helm-render unless it is newer than its source. */
export function buildRenderer(): string {
  const source = join(rendererSource, "main.go");
  if (existsSync(rendererPath) && statSync(rendererPath).mtimeMs >= statSync(source).mtimeMs) return rendererPath;
  mkdirSync(dirname(rendererPath), { recursive: true });
  const r = spawnSync("go", ["build", "-o", rendererPath, "./tools/helm-render"], {
    cwd: repoRoot,
    env: rendererBuildEnv(),
    encoding: "utf8",
  });
  if (r.error) throw new HelmCheckError("build", `cannot run go (apt-get install golang-go): ${r.error.message}`);
  if (r.status !== 0) throw new HelmCheckError("build", `go build ./tools/helm-render failed:\n${r.stderr}`);
  return rendererPath;
}

export interface RenderOptions {
  chart?: string;
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: string[];
  /** Kubernetes version the render assumes (Chart.yaml's kubeVersion is enforced); v1.29.0 by default. */
  kubeVersion?: string;
}

/** The namespace renderChart renders in unless told another (what checkCase checks). */
export const RENDER_NAMESPACE = "mlmesh";

/** `helm template`: the rendered YAML stream, or a HelmCheckError carrying the template error. */
export function renderChart(options: RenderOptions = {}): string {
  const args = [options.release ?? "mlmesh", options.chart ?? chartDir, "--namespace", options.namespace ?? RENDER_NAMESPACE];
  for (const f of options.valuesFiles ?? []) args.push("-f", f);
  for (const s of options.set ?? []) args.push("--set", s);
  if (options.kubeVersion) args.push("--kube-version", options.kubeVersion);
  const r = spawnSync(buildRenderer(), args, { encoding: "utf8" });
  if (r.status !== 0) throw new HelmCheckError("render", (r.stderr || `exit ${r.status}`).trim());
  return r.stdout;
}

export function parseManifests(stream: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(stream)) {
    if (doc.errors.length) throw new HelmCheckError("parse", doc.errors.map((e) => e.message).join("; "));
    const obj = doc.toJS() as unknown;
    if (obj === null || obj === undefined) continue;
    if (typeof obj !== "object" || Array.isArray(obj)) throw new HelmCheckError("parse", "a rendered document is not a mapping");
    const m = obj as Manifest;
    if (typeof m.apiVersion !== "string" || typeof m.kind !== "string" || typeof m.metadata?.name !== "string") {
      throw new HelmCheckError("parse", `a rendered object lacks apiVersion, kind or metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
    }
    out.push(m);
  }
  return out;
}

interface Validatable {
  validate(): void;
}
const models: Record<string, new (data: never) => Validatable> = {
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  // KEDA's CRD schema (@kubernetes-models/keda); trigger metadata is a free map there, checked by checkWorkerScaling.
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
};

/** Checks one object against its Kubernetes schema; an apiVersion/kind the chart does not expect is an error too. */
export function validateManifest(m: Manifest): void {
  const key = `${m.apiVersion}/${m.kind}`;
  const Model = models[key];
  const where = `${m.kind} ${m.metadata?.name ?? "?"}`;
  if (!Model) throw new HelmCheckError("kubernetes", `${where}: unknown kind ${key} (known: ${Object.keys(models).join(", ")})`);
  const model = new Model(m as never);
  const { proxy, unknown } = trackAccess(model);
  try {
    proxy.validate();
  } catch (e) {
    throw new HelmCheckError("kubernetes", `${where}: ${(e as Error).message}`);
  }
  const fields = unknown();
  if (fields.length) throw new HelmCheckError("kubernetes", `${where}: unknown field(s) ${fields.join(", ")}`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m.metadata.name) || m.metadata.name.length > 63) {
    throw new HelmCheckError("kubernetes", `${where}: metadata.name must be a DNS label of at most 63 characters`);
  }
}

/**
 * kubernetes-models' validators ignore unknown fields, which is where template typos hide
 * (`readinesProbe`). The validators are compiled ajv code that reads every property its schema
 * knows, and enumerates only maps (labels, data): so a key that was never read, in an object
 * that was never enumerated, is a field the schema does not have, as `kubectl --validate=strict`
 * would say.
 */
export function trackAccess<T extends object>(root: T): { proxy: T; unknown: () => string[] } {
  const read = new Map<object, Set<PropertyKey>>();
  const enumerated = new Set<object>();
  const proxies = new Map<object, object>();
  const wrap = (target: object): object => {
    let p = proxies.get(target);
    if (!p) {
      read.set(target, new Set());
      p = new Proxy(target, {
        get(t, key, receiver) {
          read.get(t)!.add(key);
          const v = Reflect.get(t, key, receiver) as unknown;
          return typeof v === "object" && v !== null ? wrap(v) : v;
        },
        has(t, key) {
          read.get(t)!.add(key);
          return Reflect.has(t, key);
        },
        ownKeys(t) {
          enumerated.add(t);
          return Reflect.ownKeys(t);
        },
      });
      proxies.set(target, p);
    }
    return p;
  };
  const unknown = (): string[] => {
    const out: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v !== "object" || v === null) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => {
          walk(x, `${path}[${i}]`);
        });
        return;
      }
      const seen = read.get(v);
      for (const [k, x] of Object.entries(v)) {
        const here = path ? `${path}.${k}` : k;
        if (!enumerated.has(v) && !(seen?.has(k) ?? false)) out.push(here);
        else walk(x, here);
      }
    };
    walk(root, "");
    return out;
  };
  return { proxy: wrap(root) as T, unknown };
}

/** Names must be unique per kind, and every reference between the chart's objects must resolve. */
export function checkReferences(manifests: Manifest[], options: { externalSecrets?: string[] } = {}): void {
  const names = new Map<string, Set<string>>();
  for (const m of manifests) {
    const set = names.get(m.kind) ?? new Set<string>();
    if (set.has(m.metadata.name)) throw new HelmCheckError("kubernetes", `duplicate ${m.kind} ${m.metadata.name}`);
    set.add(m.metadata.name);
    names.set(m.kind, set);
  }
  const has = (kind: string, name: string) => names.get(kind)?.has(name) ?? false;
  for (const d of manifests.filter((m) => m.kind === "Deployment")) {
    const spec = (
      d as unknown as {
        spec: {
          selector: { matchLabels: Record<string, string> };
          template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
        };
      }
    ).spec;
    for (const [k, v] of Object.entries(spec.selector.matchLabels)) {
      if (spec.template.metadata.labels[k] !== v)
        throw new HelmCheckError("kubernetes", `Deployment ${d.metadata.name}: selector ${k}=${v} does not match the pod labels`);
    }
    const pod = spec.template.spec;
    if (pod.serviceAccountName && pod.serviceAccountName !== "default" && !has("ServiceAccount", pod.serviceAccountName)) {
      throw new HelmCheckError("kubernetes", `Deployment ${d.metadata.name}: ServiceAccount ${pod.serviceAccountName} is not rendered`);
    }
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !has("ConfigMap", e.configMapRef.name))
          throw new HelmCheckError("kubernetes", `Deployment ${d.metadata.name}: ConfigMap ${e.configMapRef.name} is not rendered`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !has("Secret", ref.name) && !(options.externalSecrets ?? []).includes(ref.name)) {
          throw new HelmCheckError(
            "kubernetes",
            `Deployment ${d.metadata.name}: Secret ${ref.name} is neither rendered nor declared external`,
          );
        }
      }
      const mounts = new Set((c.volumeMounts ?? []).map((v) => v.name));
      for (const name of mounts) {
        if (!(pod.volumes ?? []).some((v) => v.name === name))
          throw new HelmCheckError("kubernetes", `Deployment ${d.metadata.name}: volume ${name} is mounted but not declared`);
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !has("ConfigMap", v.configMap.name))
        throw new HelmCheckError("kubernetes", `Deployment ${d.metadata.name}: ConfigMap ${v.configMap.name} is not rendered`);
    }
  }
  for (const h of manifests.filter((m) => m.kind === "ScaledObject")) {
    const target = (h as unknown as { spec: { scaleTargetRef: { kind?: string; name: string } } }).spec.scaleTargetRef;
    if (!has(target.kind ?? "Deployment", target.name))
      throw new HelmCheckError(
        "kubernetes",
        `ScaledObject ${h.metadata.name}: target ${target.kind ?? "Deployment"} ${target.name} is not rendered`,
      );
  }
  for (const h of manifests.filter((m) => m.kind === "HorizontalPodAutoscaler")) {
    const target = (h as unknown as { spec: { scaleTargetRef: { kind: string; name: string } } }).spec.scaleTargetRef;
    if (!has(target.kind, target.name))
      throw new HelmCheckError(
        "kubernetes",
        `HorizontalPodAutoscaler ${h.metadata.name}: target ${target.kind} ${target.name} is not rendered`,
      );
  }
}

interface PodSpec {
  serviceAccountName?: string;
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
interface ContainerSpec {
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
  volumeMounts?: { name: string }[];
}

/** Helm's coalescing of a values file over the chart defaults: maps merge, the rest replaces, null deletes. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(b)) out[k] = mergeValues(b, v);
    else out[k] = v;
  }
  return out;
}
const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

export function readValues(path: string): Values {
  const v = parseYaml(readFileSync(path, "utf8")) as unknown;
  if (v === null || v === undefined) return {};
  if (!isMap(v)) throw new HelmCheckError("values", `${path}: top level must be a mapping`);
  return v;
}

let compiled: ValidateFunction | undefined;

/** The problems values.schema.json finds in the coalesced values, as `helm install` would report them. */
export function valuesProblems(values: Values): string[] {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as object);
  }
  if (compiled(values)) return [];
  return (compiled.errors ?? []).map((e) => {
    const where = e.instancePath || "(root)";
    const extra = e.keyword === "additionalProperties" ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : "";
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });
}

export interface CaseResult {
  name: string;
  manifests: Manifest[];
}

/** The whole pipeline for one values file layered over the chart defaults. */
export function checkCase(name: string, valuesFile?: string): CaseResult {
  const defaults = readValues(join(chartDir, "values.yaml"));
  const values = valuesFile ? mergeValues(defaults, readValues(valuesFile)) : defaults;
  const problems = valuesProblems(values);
  if (problems.length) throw new HelmCheckError("values", `${name}:\n  ${problems.join("\n  ")}`);
  const manifests = parseManifests(renderChart({ valuesFiles: valuesFile ? [valuesFile] : [] }));
  if (manifests.length === 0) throw new HelmCheckError("render", `${name}: rendered nothing`);
  for (const m of manifests) validateManifest(m);
  const existing = (values.secret as { existingSecret?: string } | undefined)?.existingSecret;
  checkReferences(manifests, { externalSecrets: existing ? [existing] : [] });
  checkMeshPods(manifests, values);
  checkEnvoy(manifests, values);
  checkNetworkPolicies(manifests);
  checkWorkerScaling(manifests);
  return { name, manifests };
}

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are read loosely; their schema was checked above
type Loose = Record<string, any>;
function fail(where: string, message: string): never {
  throw new HelmCheckError("kubernetes", `${where}: ${message}`);
}
const component = (m: Manifest | Loose): string | undefined =>
  ((m.metadata.labels ?? {}) as Record<string, string>)["app.kubernetes.io/component"] ?? undefined;
const deployments = (ms: Manifest[], c: string) => ms.filter((m) => m.kind === "Deployment" && component(m) === c) as Loose[];

/**
 * What the mesh's pods need in production: DATABASE_URL and REDIS_URL from a Secret (DATABASE_URL not
 * optional, so no pod opens a PGlite of its own), the API keys file mounted from a Secret as a
 * directory (a subPath mount never sees the Secret change), a startup probe that waits for the first
 * start, and, for the inference core, liveness on /healthz, which nothing but a wedged event loop
 * fails; with `production`, reflection on key or off.
 */
export function checkMeshPods(manifests: Manifest[], values: Values): void {
  for (const c of ["inference", "worker"]) {
    for (const d of deployments(manifests, c)) {
      const where = `Deployment ${d.metadata.name}`;
      const pod = d.spec.template.spec as Loose;
      const container = pod.containers[0] as Loose;
      const env = new Map<string, Loose>((container.env ?? []).map((e: Loose) => [e.name as string, e]));
      for (const name of ["DATABASE_URL", "REDIS_URL"]) {
        const ref = env.get(name)?.valueFrom?.secretKeyRef;
        if (!ref) fail(where, `${name} does not come from a Secret (secretKeyRef)`);
        if (ref.optional) fail(where, `${name} is optional: a pod without it would run on its own embedded database`);
      }
      const file = env.get("MLMESH_API_KEYS_FILE")?.value as string | undefined;
      if (!file) fail(where, "MLMESH_API_KEYS_FILE is not set");
      const mount = (container.volumeMounts ?? []).find((m: Loose) => file!.startsWith(`${m.mountPath}/`));
      if (!mount) fail(where, `nothing is mounted where MLMESH_API_KEYS_FILE points (${file})`);
      if (mount.subPath) fail(where, "the API keys file is mounted with subPath, which never sees the Secret change");
      const volume = (pod.volumes ?? []).find((v: Loose) => v.name === mount.name);
      const item = file!.slice(mount.mountPath.length + 1);
      if (!volume?.secret || !(volume.secret.items ?? [{ path: item }]).some((i: Loose) => i.path === item))
        fail(where, `MLMESH_API_KEYS_FILE (${file}) is not a file of a Secret volume`);
      if (!container.startupProbe?.httpGet) fail(where, "no startup probe: liveness would run during the first start");
      if (c === "inference" && container.livenessProbe?.httpGet?.path !== "/healthz")
        fail(where, "liveness must be /healthz on the admin port, which a long call, a fit or an outage cannot fail");
    }
  }
  if (values.production) {
    const config = manifests.find(
      (m) => m.kind === "ConfigMap" && component(m) === undefined && "MLMESH_REFLECTION" in ((m as Loose).data ?? {}),
    );
    const reflection = (config as Loose | undefined)?.data.MLMESH_REFLECTION;
    if (reflection !== "key" && reflection !== "off") fail("ConfigMap", `production: MLMESH_REFLECTION is ${reflection}, not key or off`);
  }
}

/**
 * Envoy's rendered config: a valid bootstrap (decoded strictly with Envoy's protos), the deployment
 * policy of check-envoy (TLS required when production or a TLS Secret is named), TLS files from the
 * named Secret's volume, and upstreams that resolve to every inference pod: a rendered headless Service.
 */
export function checkEnvoy(manifests: Manifest[], values: Values): void {
  const cm = manifests.find((m) => m.kind === "ConfigMap" && component(m) === "envoy" && (m as Loose).data?.["envoy.yaml"]) as
    | Loose
    | undefined;
  if (!cm) return;
  const text = cm.data["envoy.yaml"] as string;
  const where = `ConfigMap ${cm.metadata.name} envoy.yaml`;
  const decoded = decodeBootstrap(text);
  if ("problem" in decoded) fail(where, decoded.problem);
  const secretName = ((values.envoy as Loose | undefined)?.tls?.secretName as string | undefined) ?? "";
  const problems = envoyPolicyProblems(text, { tls: Boolean(values.production) || secretName !== "" });
  if (problems.length) fail(where, problems.join("; "));
  const cfg = parseYaml(text) as Loose;
  const namespace = (manifests.find((m) => m.metadata.namespace) as Loose | undefined)?.metadata.namespace;
  for (const cluster of cfg.static_resources?.clusters ?? []) {
    for (const lb of (cluster.load_assignment?.endpoints ?? []).flatMap((e: Loose) => e.lb_endpoints ?? [])) {
      const addr = lb.endpoint.address.socket_address as Loose;
      const [svcName, ns] = String(addr.address).split(".");
      const svc = manifests.find((m) => m.kind === "Service" && m.metadata.name === svcName) as Loose | undefined;
      if (!svc) fail(where, `cluster ${cluster.name} names ${addr.address}, not a Service of the chart`);
      if (namespace && ns !== namespace) fail(where, `cluster ${cluster.name} names namespace ${ns}, not the release's`);
      if (svc.spec.clusterIP !== "None")
        fail(
          where,
          `cluster ${cluster.name} reaches Service ${svcName} through its ClusterIP, which pins each connection to one pod; use a headless Service`,
        );
      if (!svc.spec.ports.some((p: Loose) => p.port === addr.port_value)) fail(where, `Service ${svcName} has no port ${addr.port_value}`);
    }
  }
  const files = [...text.matchAll(/filename: (\S+?) ?\}/g)].map((m) => m[1]);
  for (const d of deployments(manifests, "envoy")) {
    const pod = d.spec.template.spec as Loose;
    const mounts = (pod.containers[0].volumeMounts ?? []) as Loose[];
    for (const f of files) {
      const mount = mounts.find((m) => f.startsWith(`${m.mountPath}/`));
      const volume = (pod.volumes ?? []).find((v: Loose) => v.name === mount?.name);
      if (volume?.secret?.secretName !== secretName)
        fail(`Deployment ${d.metadata.name}`, `Envoy reads ${f}, which is not mounted from the Secret ${secretName}`);
    }
  }
}

/** The queue-depth gauge the workers' ScaledObject reads, as services/jobs/job-metrics.ts exports it. */
const jobMetrics = () => readFileSync(join(repoRoot, "services/jobs/job-metrics.ts"), "utf8");

/**
 * A KEDA ScaledObject's prometheus trigger, which KEDA's CRD leaves a free map: a server address,
 * a threshold above zero, and a PromQL query that parses (promtool, when installed, as make test
 * has it) and reads the gauge the mesh exports (mlmesh_queue_jobs, with the states it has) for this
 * release's namespace (`namespace`: the one the chart was rendered in). The scaled Deployment sets no replicas (an upgrade would reset the scaler's
 * count), scrapes happen (a ServiceMonitor selects the pods), and the range is sane.
 */
export function checkWorkerScaling(manifests: Manifest[], namespace = RENDER_NAMESPACE): void {
  for (const so of manifests.filter((m) => m.kind === "ScaledObject") as Loose[]) {
    const where = `ScaledObject ${so.metadata.name}`;
    const spec = so.spec as Loose;
    const min = spec.minReplicaCount ?? 0;
    const max = spec.maxReplicaCount ?? 100;
    if (!(Number.isInteger(min) && min >= 1))
      fail(where, "minReplicaCount must be at least 1: delayed jobs become waiting only through a worker");
    if (!(Number.isInteger(max) && max >= min)) fail(where, `maxReplicaCount (${max}) must be at least minReplicaCount (${min})`);
    const target = manifests.find(
      (m) => m.kind === (spec.scaleTargetRef.kind ?? "Deployment") && m.metadata.name === spec.scaleTargetRef.name,
    ) as Loose | undefined;
    if (target?.spec?.replicas !== undefined)
      fail(where, `Deployment ${target.metadata.name} sets replicas, which every upgrade would reset under the scaler`);
    if (!manifests.some((m) => m.kind === "ServiceMonitor"))
      fail(where, "no ServiceMonitor: Prometheus would never scrape the queue depth it reads");
    const triggers = (spec.triggers ?? []) as Loose[];
    if (triggers.length === 0) fail(where, "no trigger");
    const metrics = jobMetrics();
    for (const t of triggers) {
      if (t.type !== "prometheus") fail(where, `trigger type ${t.type}: only prometheus (the exported queue depth) is checked here`);
      const md = t.metadata as Record<string, unknown>;
      const known = new Set(["serverAddress", "query", "threshold", "activationThreshold", "ignoreNullValues", "namespace", "unsafeSsl"]);
      for (const k of Object.keys(md)) if (!known.has(k)) fail(where, `unknown prometheus trigger metadata ${k}`);
      for (const [k, v] of Object.entries(md))
        if (typeof v !== "string") fail(where, `trigger metadata ${k} must be a string, got ${JSON.stringify(v)}`);
      if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(String(md.serverAddress ?? "")))
        fail(where, `serverAddress ${JSON.stringify(md.serverAddress)} is not an http(s) URL`);
      const threshold = Number(md.threshold);
      if (!(md.threshold !== "" && Number.isFinite(threshold) && threshold > 0))
        fail(where, `threshold ${JSON.stringify(md.threshold)} must be a number above 0`);
      if (md.ignoreNullValues !== undefined && md.ignoreNullValues !== "true" && md.ignoreNullValues !== "false")
        fail(where, 'ignoreNullValues must be "true" or "false"');
      const query = String(md.query ?? "");
      const metric = /\b(mlmesh_[a-z_]+)\{/.exec(query)?.[1];
      if (!metric || !metrics.includes(`name: "${metric}"`))
        fail(where, `the query reads ${metric ?? "no metric"}, which the mesh does not export`);
      for (const state of /state=~"([^"]*)"/.exec(query)?.[1].split("|") ?? [])
        if (!metrics.includes(`"${state}"`)) fail(where, `the query counts state ${state}, which ${metric} does not have`);
      if (!query.includes(`namespace="${namespace}"`)) fail(where, `the query does not keep to the release's namespace ${namespace}`);
      const problem = promqlProblem(query);
      if (problem) fail(where, `the query does not parse: ${problem}`);
    }
  }
}

/** PromQL syntax through `promtool check rules` on a one-rule file; undefined when it parses or promtool is not installed. */
function promqlProblem(query: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "mlmesh-promql-"));
  try {
    const file = join(dir, "rule.yml");
    writeFileSync(file, `groups:\n  - name: check\n    rules:\n      - record: mlmesh:check\n        expr: ${JSON.stringify(query)}\n`);
    const r = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    if (r.error) return undefined;
    return r.status === 0 ? undefined : (r.stderr || r.stdout).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every pod of the chart is selected by a NetworkPolicy governing both directions; the inference
 * core and the workers admit no ingress rule without peers (it would admit everyone); the workers
 * admit only their admin port; DNS is reachable.
 */
export function checkNetworkPolicies(manifests: Manifest[]): void {
  const policies = manifests.filter((m) => m.kind === "NetworkPolicy") as Loose[];
  if (policies.length === 0) return;
  for (const d of manifests.filter((m) => m.kind === "Deployment") as Loose[]) {
    const labels = d.spec.template.metadata.labels as Record<string, string>;
    const mine = policies.filter((p) => Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
    const where = `Deployment ${d.metadata.name}`;
    if (mine.length === 0) fail(where, "no NetworkPolicy selects its pods");
    const types = new Set(mine.flatMap((p) => p.spec.policyTypes as string[]));
    if (!types.has("Ingress") || !types.has("Egress")) fail(where, "its NetworkPolicy does not govern both Ingress and Egress");
    const ingress = mine.flatMap((p) => (p.spec.ingress ?? []) as Loose[]);
    if (component(d) !== "envoy" && ingress.some((r) => !r.from?.length))
      fail(where, "an ingress rule without `from` admits every pod and address");
    if (component(d) === "worker" && ingress.some((r) => (r.ports ?? []).some((p: Loose) => p.port !== "admin")))
      fail(where, "workers serve nothing: only their admin port may be reached");
    const egress = mine.flatMap((p) => (p.spec.egress ?? []) as Loose[]);
    if (!egress.some((r) => (r.ports ?? []).some((p: Loose) => p.port === 53))) fail(where, "its egress does not allow DNS");
  }
}

/** values.yaml alone does not render: a release must name its database (see the tests). */
export const cases: { name: string; valuesFile?: string }[] = [
  { name: "ci/dev-values.yaml", valuesFile: join(chartDir, "ci/dev-values.yaml") },
  { name: "ci/production-values.yaml", valuesFile: join(chartDir, "ci/production-values.yaml") },
];

function main(): number {
  let failed = 0;
  for (const c of cases) {
    try {
      const r = checkCase(c.name, c.valuesFile);
      const kinds = r.manifests
        .map((m) => m.kind)
        .reduce<Record<string, number>>((acc, k) => {
          acc[k] = (acc[k] ?? 0) + 1;
          return acc;
        }, {});
      console.log(
        `ok   ${c.name}: ${r.manifests.length} objects (${Object.entries(kinds)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")})`,
      );
    } catch (e) {
      failed++;
      console.error(`FAIL ${c.name}: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main();
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
