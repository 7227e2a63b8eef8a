import { spawn } from "node:child_process";
import { once } from "node:events";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastArea } from "../../services/forecast/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope, type TestScope } from "../support/scope.js";

// The data and operations commands of `mlmesh`, each run as its own process (cli/main.ts through tsx, as
// test/jobs/cli.test.ts does) against this file's database, Redis prefix and a mesh in this process; each
// test reads what the command did (rows, models, answers), not only its exit code.

let scope: TestScope;
let sql: postgres.Sql;
let mesh: Mesh;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mlmesh(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    env: { ...process.env, LOG_LEVEL: "warn", ...scope.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return once(child, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

const sales = Array.from({ length: 90 }, (_, i) => ({
  date: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
  quantity: 10 + (i % 7),
}));

beforeAll(async () => {
  scope = await testScope();
  sql = postgres(scope.databaseUrl, { max: 1, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await mesh?.shutdown();
  await sql?.end();
});

describe("mlmesh migrate, seed, train, models", () => {
  it("migrate applies every migration once, then is up to date", async () => {
    const first = await mlmesh(["migrate"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: .*0500_jobs\.sql/);
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from information_schema.tables where table_name = 'jobs'`;
    expect(n).toBe(1);
    const again = await mlmesh(["migrate"]);
    expect([again.code, again.stdout]).toEqual([0, "up to date\n"]);
  }, 60_000);

  it("seed loads the sizes asked for; train match stores and promotes a version; models list marks it serving", async () => {
    const seeded = await mlmesh(["seed", "--travellers", "400", "--destinations", "80", "--products", "2", "--seed", "7"]);
    expect(seeded.code, seeded.stderr).toBe(0);
    const [counts] = await sql<{ travellers: number; destinations: number; products: number }[]>`
      select (select count(*)::int from travellers) as travellers, (select count(*)::int from destinations) as destinations,
             (select count(distinct product_id)::int from transactions) as products`;
    expect(counts).toEqual({ travellers: 400, destinations: 80, products: 2 });
    expect(seeded.stdout).toContain("travellers: 400");

    const trained = await mlmesh(["train", "match", "--force"]);
    expect(trained.code, trained.stderr).toBe(0);
    const [version] = await sql<{ version: number; promoted: boolean }[]>`
      select version, promoted_at is not null as promoted from model_versions where model = 'match' order by version desc limit 1`;
    expect(version).toEqual({ version: expect.any(Number), promoted: true });
    // The training stores v2 when it beats v1 on the same pairs, else v1: the line names which.
    expect(trained.stdout).toMatch(new RegExp(`^version ${version.version} \\((v1|v2)\\): v2 AUC .* v1 AUC .*; promoted`));

    const listed = await mlmesh(["models", "list", "match"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^\\* match v${version.version} .*promoted`, "m"));
    expect((await mlmesh(["models", "list"])).code).toBe(2);
  }, 120_000);
});

describe("mlmesh call, health, eval", () => {
  beforeAll(async () => {
    ({ mesh } = await startTestMesh([forecastArea], scope.env));
  }, 60_000);

  it("call prints the response as JSON and exits 0; a refused request exits 1 with its code", async () => {
    const addr = `127.0.0.1:${mesh.ports.grpc}`;
    const request = (horizon: number) => JSON.stringify({ product_id: "sku-1", horizon_days: horizon, transaction_data: sales });
    const [ok, refused] = await Promise.all([
      mlmesh(["call", "ForecastService.ForecastDemand", request(7), "--addr", addr, "--key", TEST_KEY]),
      mlmesh(["call", "ForecastService.ForecastDemand", request(400), "--addr", addr, "--key", TEST_KEY]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const body = JSON.parse(ok.stdout) as { predictions: unknown[] };
    expect(body.predictions).toHaveLength(7);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("INVALID_ARGUMENT");
    expect(refused.stderr).toContain("horizon_days");
  }, 60_000);

  it("health exits 0 with SERVING from a serving mesh, 1 where none answers", async () => {
    const [serving, nobody] = await Promise.all([
      mlmesh(["health", "--addr", `127.0.0.1:${mesh.ports.grpc}`]),
      mlmesh(["health", "--addr", "127.0.0.1:1", "--timeout-ms", "2000"]),
    ]);
    expect([serving.code, serving.stdout]).toEqual([0, "SERVING\n"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("health check failed");
  }, 60_000);

  it("eval runs a model's evaluation against its baselines (notify, the fastest, on a small population); an unknown model is a usage error", async () => {
    const [notify, unknown] = await Promise.all([mlmesh(["eval", "notify"], { EVAL_USERS: "300" }), mlmesh(["eval", "nosuch"])]);
    expect(notify.code, notify.stderr).toBe(0);
    expect(notify.stdout).toContain("population-only model");
    expect(notify.stdout).toContain("ours beats both baselines");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown or unbuilt model 'nosuch'");
  }, 60_000);
});
