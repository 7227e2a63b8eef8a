import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { create, fromBinary, fromJson, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import postgres from "postgres";
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.js";
import { ForecastDemandRequestSchema } from "../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { BENCH_API_KEY } from "./bench-config.js";
import { describeMachine } from "./machine.js";
import { percentile } from "./percentile.js";
import type { AbuseSummary } from "./soak-abuse.js";

/**
 * The soak (`node dist/bench/soak.js`, part of `make bench`): the real
 * `mlmesh serve` in a process of its own, a fixed-rate mix of normal calls
 * for SOAK_BASELINE_SECONDS alone (phase A), then the same mix for
 * SOAK_SECONDS while dist/bench/soak-abuse.js attacks every port from
 * another process (phase B). Reports the normal traffic's latency and error
 * rate in both phases side by side, and the mesh process's RSS before, after
 * each phase and after a settle. Figures, not assertions: the mesh misbehaving
 * shows in the table (errors, a process that died, a last-resort log line).
 */
const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const WARMUP_SECONDS = 5;
const BASELINE_SECONDS = Number(process.env.SOAK_BASELINE_SECONDS ?? 20);
const ABUSE_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const SETTLE_SECONDS = Number(process.env.SOAK_SETTLE_SECONDS ?? 30);
const DEADLINE_MS = 5000;
const apiKey = BENCH_API_KEY;
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const serverUrl = "postgres://postgres@127.0.0.1:5432";
// Names of this run's own (its process id): two soaks at once, say make bench in two checkouts, must not drop each other's database.
const database = `mlmesh_bench_soak_${process.pid}`;
const prefix = `bench-soak-${process.pid}`;
const sample = readFileSync(new URL("../../scripts/samples/forecast-demand.json", import.meta.url), "utf8");
const here = (file: string) => new URL(file, import.meta.url).pathname;

interface Ports {
  grpc: number;
  connect: number;
  admin: number;
  gateway: number;
}
type Phase = "start" | "warm-up" | "A" | "B" | "settle" | "stop";

// A database of its own, fresh each run; Redis keys and queues under a prefix of their own.
const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
await admin.unsafe(`drop database if exists ${database} with (force)`);
await admin.unsafe(`create database ${database}`);
await admin.end();
await clearRedis();

// ---- The mesh, as `mlmesh serve` runs it.
let phase: Phase = "start";
const logCounts = new Map<string, number>(); // `${phase}\t${level}\t${msg}` → lines
let stderrTail = "";
const meshEnv = {
  ...process.env,
  GRPC_PORT: "0",
  CONNECT_PORT: "0",
  ADMIN_PORT: "0",
  GATEWAY_PORT: "0",
  MLMESH_HOST: "127.0.0.1",
  MLMESH_API_KEYS: apiKey,
  LOG_LEVEL: "info",
  DATABASE_URL: `${serverUrl}/${database}`,
  REDIS_URL: redisUrl,
  MLMESH_REDIS_PREFIX: prefix,
  MLMESH_QUEUE_PREFIX: prefix,
};
const meshArgs = [here("../cli/main.js"), "serve"];
const mesh = spawn(process.execPath, meshArgs, { env: meshEnv, stdio: ["ignore", "ignore", "pipe"] });
// Whatever happens to this process, no child outlives it.
const children: ChildProcess[] = [mesh];
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
interface MeshExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  phase: Phase;
}
let meshExit: MeshExit | undefined;
const meshExited = new Promise<void>((resolve) =>
  mesh.once("exit", (code, signal) => {
    meshExit = { code, signal, phase };
    resolve();
  }),
);
const ports = await new Promise<Ports>((resolve, reject) => {
  let partial = "";
  mesh.stderr!.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split("\n");
    partial = lines.pop()!;
    stderrTail = (stderrTail + chunk.toString()).slice(-8000);
    for (const line of lines) {
      let entry: { level?: string; msg?: string; ports?: Ports };
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { level: "stderr", msg: line.slice(0, 120) };
      }
      const key = `${phase}\t${entry.level}\t${entry.msg}`;
      logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
      if (entry.msg === "mesh started" && entry.ports) resolve(entry.ports);
    }
  });
  mesh.once("exit", (code) => reject(new Error(`mlmesh serve exited ${code} before it started:\n${stderrTail}`)));
  setTimeout(() => reject(new Error(`mlmesh serve did not start within 120 s:\n${stderrTail}`)), 120_000).unref();
});

// ---- Normal traffic: a fixed-rate mix of real calls on three ports.
// One channel of its own for the gRPC calls; keep-alive agents for HTTP/1.1.
const channel = new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const forecastRequest = { ...fromJson(ForecastDemandRequestSchema, JSON.parse(sample)), cacheBypass: true };

function grpcCall<I extends DescMessage>(
  path: string,
  schema: I,
  request: MessageInitShape<I>,
  metadata: Record<string, string>,
): () => Promise<void> {
  const bytes = Buffer.from(toBinary(schema, create(schema, request)));
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return () =>
    new Promise((resolve, reject) => {
      channel.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        md,
        { deadline: Date.now() + DEADLINE_MS },
        (err) => (err ? reject(new Error(grpcError(err))) : resolve()),
      );
    });
}

/** A gRPC error as the table shows it: the code, and for any but a deadline what the client was told. */
function grpcError(err: grpc.ServiceError): string {
  const code = `gRPC ${grpc.status[err.code] ?? err.code}`;
  return err.code === grpc.status.DEADLINE_EXCEEDED ? code : `${code} "${err.details.slice(0, 80)}"`;
}

/** Whether the mesh reports SERVING for the whole server (grpc.health.v1.Health/Check with no service). */
function serving(): Promise<boolean> {
  const bytes = Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {})));
  return new Promise((resolve) => {
    channel.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + DEADLINE_MS },
      (err, res) =>
        resolve(!err && !!res && fromBinary(HealthCheckResponseSchema, res).status === HealthCheckResponse_ServingStatus.SERVING),
    );
  });
}

function httpCall(port: number, path: string, body: string, headers: Record<string, string>): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path,
          agent,
          headers: { "content-type": "application/json", ...headers },
          signal: AbortSignal.timeout(DEADLINE_MS),
        },
        (res) => {
          res.on("error", () => reject(new Error("response aborted")));
          res.resume();
          res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) =>
        reject(new Error(err.name === "AbortError" ? "no answer in 5 s" : (err.code ?? err.message))),
      );
      req.end(body);
    });
}

interface Kind {
  name: string;
  rate: number;
  call: () => Promise<void>;
}
const kinds: Kind[] = [
  { name: "gRPC grpc.health.v1.Health/Check", rate: 100, call: grpcCall("/grpc.health.v1.Health/Check", HealthCheckRequestSchema, {}, {}) },
  {
    name: "gRPC ForecastDemand, cache_bypass (a fit each)",
    rate: 10,
    call: grpcCall("/mlmesh.forecast.v1.ForecastService/ForecastDemand", ForecastDemandRequestSchema, forecastRequest, {
      authorization: `Bearer ${apiKey}`,
    }),
  },
  {
    name: "REST POST /forecast/demand (cached)",
    rate: 10,
    call: httpCall(ports.gateway, "/forecast/demand", sample, { authorization: `Bearer ${apiKey}` }),
  },
  { name: "Connect (HTTP/1.1 JSON) Health/Check", rate: 20, call: httpCall(ports.connect, "/grpc.health.v1.Health/Check", "{}", {}) },
];

interface Figures {
  calls: number;
  latencies: number[];
  errors: Map<string, number>;
}

/** Calls each kind at its rate (open loop: a slow answer does not delay the next call) for `seconds`; waits for every call. */
async function drive(seconds: number): Promise<Figures[]> {
  const figures = kinds.map((): Figures => ({ calls: 0, latencies: [], errors: new Map() }));
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  while (performance.now() < end) {
    const elapsed = (performance.now() - started) / 1000;
    kinds.forEach((kind, i) => {
      const f = figures[i];
      while (f.calls < Math.floor(elapsed * kind.rate)) {
        f.calls++;
        const t = performance.now();
        pending.push(
          kind.call().then(
            () => void f.latencies.push(performance.now() - t),
            (err: Error) => void f.errors.set(err.message, (f.errors.get(err.message) ?? 0) + 1),
          ),
        );
      }
    });
    await sleep(5);
  }
  await Promise.all(pending);
  for (const f of figures) f.latencies.sort((a, b) => a - b);
  return figures;
}

// ---- The mesh process, from /proc.
interface Sample {
  rssMiB: number;
  fds: number;
}
function sampleMesh(): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${mesh.pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMiB: kb("VmRSS") / 1024, fds: readdirSync(`/proc/${mesh.pid}/fd`).length };
  } catch {
    return undefined; // gone
  }
}
/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
/** CPU seconds the whole machine has been busy (all cores, every process), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user + nice + system + irq + softirq + steal) / 100;
}
interface CpuMark {
  at: number;
  mesh: number;
  client: number;
  machine: number;
}
const cpuMark = (): CpuMark => ({
  at: performance.now(),
  mesh: cpuSeconds(mesh.pid),
  client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  machine: machineBusySeconds(),
});
/** Cores busy on average between two marks: the mesh, this process (the normal traffic), the whole machine. */
const coresBusy = (a: CpuMark, b: CpuMark) => {
  const s = (b.at - a.at) / 1000;
  return { mesh: (b.mesh - a.mesh) / s, client: (b.client - a.client) / s, machine: (b.machine - a.machine) / s, seconds: s };
};
const peak = new Map<Phase, { rssMiB: number; fds: number }>();
const sampler = setInterval(() => {
  const s = sampleMesh();
  if (!s) return;
  const p = peak.get(phase) ?? { rssMiB: 0, fds: 0 };
  peak.set(phase, { rssMiB: Math.max(p.rssMiB, s.rssMiB), fds: Math.max(p.fds, s.fds) });
}, 250);

// ---- The run.
let abuse: AbuseSummary | undefined;
let abuseExit: string | undefined;
const samples: Partial<Record<"before" | "afterA" | "afterB" | "settled", Sample>> = {};
let baseline: Figures[] = [];
let underAbuse: Figures[] = [];
let answersAfter = "";
let recoveredAfter: number | undefined;
let lastRound: number[] = [];
let cpuAtSettle: CpuMark | undefined;
let cpuAfterSettle: CpuMark | undefined;
let cpuAtA: CpuMark | undefined;
let cpuAfterA: CpuMark | undefined;
let cpuAtB: CpuMark | undefined;
let cpuAfterB: CpuMark | undefined;
let stop = "";
try {
  // Ready when the whole server reports SERVING.
  for (let i = 0; !(await serving()); i++) {
    if (meshExit) throw new Error(`mlmesh serve exited:\n${stderrTail}`);
    if (i > 240) throw new Error("mlmesh serve did not report SERVING within 60 s");
    await sleep(250);
  }
  phase = "warm-up";
  await drive(WARMUP_SECONDS);
  samples.before = sampleMesh();
  cpuAtA = cpuMark();
  phase = "A";
  process.stderr.write(`soak: ${BASELINE_SECONDS} s of normal traffic alone\n`);
  baseline = await drive(BASELINE_SECONDS);
  samples.afterA = sampleMesh();
  cpuAfterA = cpuMark();

  phase = "B";
  process.stderr.write(`soak: ${ABUSE_SECONDS} s of normal traffic beside the abuse\n`);
  const attacker = spawn(process.execPath, [here("./soak-abuse.js")], {
    env: { ...process.env, SOAK_PORTS: JSON.stringify(ports), SOAK_ABUSE_SECONDS: String(ABUSE_SECONDS), SOAK_API_KEY: apiKey },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(attacker);
  let attackerOut = "";
  attacker.stdout!.on("data", (d: Buffer) => (attackerOut += d.toString()));
  const attackerDone = new Promise<void>((resolve) =>
    attacker.once("exit", (code, signal) => {
      abuseExit = signal ? `killed by ${signal}` : `exit ${code}`;
      resolve();
    }),
  );
  // The attacker stops by itself; one that has not 30 s after its time is killed.
  const killTimer = setTimeout(() => attacker.kill("SIGKILL"), (ABUSE_SECONDS + 30) * 1000);
  cpuAtB = cpuMark();
  underAbuse = await drive(ABUSE_SECONDS);
  cpuAfterB = cpuMark();
  await attackerDone;
  clearTimeout(killTimer);
  try {
    abuse = JSON.parse(attackerOut.trim().split("\n").pop()!) as AbuseSummary;
  } catch {
    abuse = undefined; // reported as nothing
  }
  samples.afterB = sampleMesh();

  // Settle: no abuse, no load but one call of each kind every 500 ms, to see when the mesh answers as in phase A again.
  phase = "settle";
  const abuseEnded = performance.now();
  cpuAtSettle = cpuMark();
  const limits = kinds.map((_, i) => Math.max(100, 2 * percentile(baseline[i].latencies, 0.99) || DEADLINE_MS));
  while (performance.now() - abuseEnded < SETTLE_SECONDS * 1000) {
    const round = await Promise.all(
      kinds.map((k) => {
        const t = performance.now();
        return k.call().then(
          () => performance.now() - t,
          () => Infinity,
        );
      }),
    );
    if (recoveredAfter === undefined && round.every((ms, i) => ms <= limits[i])) recoveredAfter = (performance.now() - abuseEnded) / 1000;
    lastRound = round;
    await sleep(Math.max(0, Math.min(500, SETTLE_SECONDS * 1000 - (performance.now() - abuseEnded))));
  }
  cpuAfterSettle = cpuMark();
  samples.settled = sampleMesh();
  const failing = kinds.filter((_, i) => !(lastRound[i] <= limits[i])).map((k) => k.name);
  answersAfter =
    recoveredAfter === undefined
      ? `**not within ${SETTLE_SECONDS} s** (the last round: ${failing.length ? `${failing.join(", ")} slow or failing` : "all answered"})`
      : `after ${recoveredAfter.toFixed(1)} s${failing.length ? ` (but slow or failing again at the end: ${failing.join(", ")})` : ""}`;
} finally {
  clearInterval(sampler);
  channel.close();
  agent.destroy();
  phase = "stop";
  if (!meshExit) {
    const t = performance.now();
    mesh.kill("SIGTERM");
    const killTimer = setTimeout(() => mesh.kill("SIGKILL"), 30_000);
    await meshExited;
    clearTimeout(killTimer);
    stop = `On SIGTERM it exited ${meshExit!.signal ? `by ${meshExit!.signal}` : meshExit!.code} after ${((performance.now() - t) / 1000).toFixed(1)} s.`;
  }
  await clearRedis().catch(() => undefined);
  // The database goes with the run (a fresh one is made at the start of the next).
  const server = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => undefined });
  await server.unsafe(`drop database if exists ${database} with (force)`).catch(() => undefined);
  await server.end();
}

// ---- The section.
const ms = (v: number) => (Number.isNaN(v) ? "—" : v < 10 ? v.toFixed(2) : v.toFixed(1));
const errorRate = (f: Figures) => {
  const errors = [...f.errors.values()].reduce((a, b) => a + b, 0);
  const rate = f.calls ? `${((errors / f.calls) * 100).toFixed(2)}%` : "—";
  return errors ? `${rate} (${[...f.errors].map(([why, n]) => `${n} × ${why}`).join(", ")})` : rate;
};
const merge = (all: Figures[]): Figures => ({
  calls: all.reduce((a, f) => a + f.calls, 0),
  latencies: all.flatMap((f) => f.latencies).sort((a, b) => a - b),
  errors: all.reduce((m, f) => {
    for (const [why, n] of f.errors) m.set(why, (m.get(why) ?? 0) + n);
    return m;
  }, new Map<string, number>()),
});
const rows = [
  ...kinds.map((k, i) => ({ name: k.name, rate: String(k.rate), a: baseline[i], b: underAbuse[i] })),
  { name: "**all normal traffic**", rate: String(kinds.reduce((a, k) => a + k.rate, 0)), a: merge(baseline), b: merge(underAbuse) },
]
  .filter((r) => r.a && r.b)
  .map(
    (r) =>
      `| ${r.name} | ${r.rate} | ${r.a.calls} / ${r.b.calls} | ${ms(percentile(r.a.latencies, 0.5))} | ${ms(percentile(r.b.latencies, 0.5))} | ${ms(percentile(r.a.latencies, 0.99))} | ${ms(percentile(r.b.latencies, 0.99))} | ${errorRate(r.a)} | ${errorRate(r.b)} |`,
  );

// Set by the exit handler (TypeScript cannot see that).
const exitSeen = meshExit as MeshExit | undefined;
const died = exitSeen && exitSeen.phase !== "stop" ? exitSeen : undefined;
const cpuRow = (a: CpuMark | undefined, b: CpuMark | undefined, attackerSeconds?: number) => {
  if (!a || !b) return "—";
  const c = coresBusy(a, b);
  return `${c.mesh.toFixed(2)} / ${c.client.toFixed(2)} / ${attackerSeconds === undefined ? "—" : (attackerSeconds / c.seconds).toFixed(2)} / ${c.machine.toFixed(2)}`;
};
const mib = (s: Sample | undefined) => (s ? s.rssMiB.toFixed(0) : "gone");
const logLines = (p: Phase, levels: string[]) =>
  [...logCounts].filter(([k]) => k.startsWith(`${p}\t`) && levels.includes(k.split("\t")[1])).reduce((a, [, n]) => a + n, 0);
const lastResort = [...logCounts].filter(([k]) => /last-resort|uncaught|unhandled/i.test(k)).reduce((a, [, n]) => a + n, 0);
const logDetail = [...logCounts]
  .filter(([k]) => ["A", "B", "settle"].includes(k.split("\t")[0]) && k.split("\t")[1] !== "info" && k.split("\t")[1] !== "debug")
  .map(([k, n]) => {
    const [p, level, msg] = k.split("\t");
    return `${p === "A" ? "without abuse" : p === "B" ? "with abuse" : "settle"}: ${n} × ${level} "${msg}"`;
  });

// One row per outcome, the abuse named on its first.
const abuseRows = abuse
  ? Object.entries(
      Object.entries(abuse.counts).reduce<Record<string, [string, number][]>>((groups, [key, n]) => {
        const at = key.indexOf(": ");
        (groups[key.slice(0, at)] ??= []).push([key.slice(at + 2), n]);
        return groups;
      }, {}),
    ).flatMap(([name, outcomes]) =>
      outcomes
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([what, n], i) => `| ${i ? "" : name} | ${i ? "" : (abuse!.rates[name] ?? "")} | ${what} | ${n.toLocaleString("en")} |`),
    )
  : ["| (the attacker reported nothing) | | | |"];
const heldRows = abuse
  ? Object.entries(abuse.held)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([name, h]) =>
          `| ${name} | ${h.opened} | ${h.closedByServer}${h.closedByServer ? ` (${(h.meanMs / 1000).toFixed(1)} / ${(h.maxMs / 1000).toFixed(1)})` : ""} | ${h.stillOpen} | ${Object.entries(
            h.answers,
          )
            .map(([a, n]) => `${n} × ${a}`)
            .join(", ")} |`,
      )
  : [];

const md = `## Soak: hostile clients beside normal traffic

Written by \`node dist/bench/soak.js\` (part of \`make bench\`) on ${new Date().toISOString().slice(0, 10)}; ${describeMachine()}.

The mesh runs as in production, \`node dist/cli/main.js serve\` in a process of its own (default limits; PostgreSQL
database \`mlmesh_bench_soak_<pid>\`, made for the run and dropped after it; Redis ${redisUrl.replace(/\/\/[^@]*@/, "//")}, prefix \`bench-soak-<pid>\`). The normal traffic is a fixed-rate mix from the
benchmark's process, open loop (a slow answer does not delay the next call), over one gRPC connection and keep-alive
HTTP/1.1 connections. Phase A: ${BASELINE_SECONDS} s of it alone (after ${WARMUP_SECONDS} s of warm-up). Phase B, straight after in the same
run: the same mix for ${ABUSE_SECONDS} s while \`node dist/bench/soak-abuse.js\`, another process, attacks all four ports on
127.0.0.1 (table below). Latencies are client-side, from call to answer; an error is any answer but OK / 200, or none
within ${DEADLINE_MS / 1000} s. The attacker, the traffic, PostgreSQL and the mesh share the machine's ${os.cpus().length} cores, so phase B
also measures the attacker's CPU; the CPU row below shows who used what, and whether anything else was running.

| normal call | per s | calls A / B | p50 ms A | p50 ms B (abuse) | p99 ms A | p99 ms B (abuse) | errors A | errors B (abuse) |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

The mesh process (\`/proc/<pid>/status\` VmRSS; peak: highest of samples every 250 ms in the phase):

| mesh process | after warm-up | after A (${BASELINE_SECONDS} s, no abuse) | after B (${ABUSE_SECONDS} s of abuse) | after ${SETTLE_SECONDS} s to settle |
|---|---|---|---|---|
| RSS MiB | ${mib(samples.before)} | ${mib(samples.afterA)} | ${mib(samples.afterB)} | ${mib(samples.settled)} |
| peak RSS MiB in the phase | | ${peak.get("A")?.rssMiB.toFixed(0) ?? "—"} | ${peak.get("B")?.rssMiB.toFixed(0) ?? "—"} | ${peak.get("settle")?.rssMiB.toFixed(0) ?? "—"} |
| open file descriptors (peak in the phase) | ${samples.before?.fds ?? "—"} | ${samples.afterA?.fds ?? "—"} (${peak.get("A")?.fds ?? "—"}) | ${samples.afterB?.fds ?? "—"} (${peak.get("B")?.fds ?? "—"}) | ${samples.settled?.fds ?? "—"} (${peak.get("settle")?.fds ?? "—"}) |
| CPU in the phase, cores busy on average: the mesh / the normal traffic's client / the attacker / the whole machine | | ${cpuRow(cpuAtA, cpuAfterA)} | ${cpuRow(cpuAtB, cpuAfterB, abuse?.cpuSeconds)} | ${cpuRow(cpuAtSettle, cpuAfterSettle)} |
| warn / error log lines in the phase | | ${logLines("A", ["warn"])} / ${logLines("A", ["error"])} | ${logLines("B", ["warn"])} / ${logLines("B", ["error"])} | ${logLines("settle", ["warn"])} / ${logLines("settle", ["error"])} |

Process alive after the soak: ${died ? `**no: exited ${died.code ?? died.signal} during ${died.phase}**` : "yes"}. Once the attacker had stopped, one call of each
kind every 500 ms: every kind answered OK within twice its phase-A p99 (at least 100 ms) ${answersAfter || "—"}.
Last-resort handler reached: ${lastResort} times. ${stop || "Not stopped by the benchmark."}${logDetail.length ? `\nWarnings and errors the mesh logged: ${logDetail.join("; ")}.` : ""}

The abuse (${abuse ? `${abuse.seconds.toFixed(0)} s` : "—"}; attacker ${abuseExit ?? "—"}), each a loop of its own, all at once, and what the server answered:

| abuse | rate | sent → the server's answer | count |
|---|---|---|---|
${abuseRows.join("\n")}

Connections the attacker held open (slowloris, never-ending bodies and idle connections, reopened when the server closes
them; the server's headers, request and idle timeouts are the mesh's defaults):

| held connection | opened | closed by the server (mean / max s open) | still open at the end | the server's first answer |
|---|---|---|---|---|
${heldRows.join("\n")}

Command: \`node dist/bench/soak.js --markdown build/bench/soak.md\` (SOAK_BASELINE_SECONDS=${BASELINE_SECONDS}, SOAK_SECONDS=${ABUSE_SECONDS}, SOAK_SETTLE_SECONDS=${SETTLE_SECONDS}).
To see what one abuse costs on its own, run the attacker against a mesh with only that loop:
\`SOAK_PORTS='{"grpc":…,"connect":…,"admin":…,"gateway":…}' SOAK_ABUSE_SECONDS=10 SOAK_API_KEY=… SOAK_ABUSE_ONLY=rapid node dist/bench/soak-abuse.js\`
(SOAK_ABUSE_ONLY takes comma-separated parts of the abuse names above).
`;
process.stdout.write(md);
if (markdown) writeFileSync(markdown, md);
process.exit(0);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Removes what the soak's mesh left in Redis (its prefix's keys). */
async function clearRedis(): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
