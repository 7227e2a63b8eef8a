import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { ConfigError, intSetting, loadConfig, NUMERIC_SETTINGS } from "../../services/runtime/config.js";

const KEYS = { MLMESH_API_KEYS: "k".repeat(20) };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...KEYS, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

/** Runs the CLI from source; resolves with its exit code and stderr. */
async function mlmesh(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    // Nothing listens on port 1: were the settings not checked first, startup would fail later, differently (exit 1).
    env: {
      ...process.env,
      ...KEYS,
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
      REDIS_URL: "redis://127.0.0.1:1",
      GRPC_PORT: "0",
      CONNECT_PORT: "0",
      ADMIN_PORT: "0",
      GATEWAY_PORT: "0",
      MLMESH_HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const [code] = await once(child, "exit");
  return { code: code as number | null, stderr };
}

describe("numeric settings", () => {
  it("default to the documented values", () => {
    const c = loadConfig(KEYS);
    expect([
      c.forecastWorkers,
      c.forecastQueueDepth,
      c.matchBatchMax,
      c.matchBatchWaitMs,
      c.matchPredictionCacheTtlMs,
      c.modelKeepVersions,
    ]).toEqual([1, 64, 256, 1, 300_000, 5]);
  });

  it("accept values within their bounds, zero where zero means off", () => {
    const c = loadConfig({
      ...KEYS,
      FORECAST_WORKERS: "4",
      FORECAST_QUEUE_DEPTH: "0",
      MATCH_BATCH_MAX: "64",
      MATCH_BATCH_WAIT_MS: "0",
      MATCH_PREDICTION_CACHE_TTL_MS: "0",
      MLMESH_MODEL_KEEP_VERSIONS: "2",
    });
    expect([
      c.forecastWorkers,
      c.forecastQueueDepth,
      c.matchBatchMax,
      c.matchBatchWaitMs,
      c.matchPredictionCacheTtlMs,
      c.modelKeepVersions,
    ]).toEqual([4, 0, 64, 0, 0, 2]);
  });

  it.each([
    ["FORECAST_WORKERS", "0", "must be a positive integer"],
    ["FORECAST_WORKERS", "abc", "must be a positive integer"],
    ["FORECAST_WORKERS", "1.5", "must be a positive integer"],
    ["FORECAST_WORKERS", "100000", "at most 256"],
    ["FORECAST_QUEUE_DEPTH", "-1", "must be a non-negative integer"],
    ["FORECAST_QUEUE_DEPTH", "lots", "must be a non-negative integer"],
    ["MATCH_BATCH_MAX", "0", "must be a positive integer"],
    ["MATCH_BATCH_MAX", "1e3", "must be a positive integer"],
    ["MATCH_BATCH_WAIT_MS", "-5", "must be a non-negative integer"],
    ["MATCH_BATCH_WAIT_MS", "99999999999", "at most 1000"],
    ["MATCH_PREDICTION_CACHE_TTL_MS", "five minutes", "must be a non-negative integer"],
    ["MLMESH_MODEL_KEEP_VERSIONS", "0", "must be a positive integer"],
    ["MLMESH_MODEL_KEEP_VERSIONS", "NaN", "must be a positive integer"],
  ])("refuse %s=%s, naming the variable and its rule", (name, value, rule) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${name}=${JSON.stringify(value)}`);
    expect(problems[0]).toContain(rule);
  });

  it("are all named at once", () => {
    const problems = problemsOf({ FORECAST_WORKERS: "0", MATCH_BATCH_MAX: "x", MLMESH_MODEL_KEEP_VERSIONS: "-1" }).join("\n");
    for (const name of ["FORECAST_WORKERS", "MATCH_BATCH_MAX", "MLMESH_MODEL_KEEP_VERSIONS"]) expect(problems).toContain(name);
  });

  it("are checked on their own too, for code that runs without the mesh's config (the model registry in jobs)", () => {
    expect(intSetting(NUMERIC_SETTINGS.modelKeepVersions, {})).toBe(5);
    expect(intSetting(NUMERIC_SETTINGS.modelKeepVersions, { MLMESH_MODEL_KEEP_VERSIONS: "3" })).toBe(3);
    expect(() => intSetting(NUMERIC_SETTINGS.modelKeepVersions, { MLMESH_MODEL_KEEP_VERSIONS: "abc" })).toThrow(
      /MLMESH_MODEL_KEEP_VERSIONS="abc": must be a positive integer/,
    );
  });

  it("stop `mlmesh serve` and `mlmesh worker` from starting, with the configuration exit code and a message naming the variable", async () => {
    const [serve, worker, serveAbc] = await Promise.all([
      mlmesh(["serve"], { FORECAST_WORKERS: "0" }),
      mlmesh(["worker"], { MLMESH_MODEL_KEEP_VERSIONS: "abc" }),
      mlmesh(["serve"], { FORECAST_WORKERS: "abc", MATCH_BATCH_WAIT_MS: "-1" }),
    ]);
    expect(serve.code).toBe(3);
    expect(serve.stderr).toContain('FORECAST_WORKERS="0": must be a positive integer');
    expect(worker.code).toBe(3);
    expect(worker.stderr).toContain('MLMESH_MODEL_KEEP_VERSIONS="abc": must be a positive integer');
    expect(serveAbc.code).toBe(3);
    expect(serveAbc.stderr).toContain('FORECAST_WORKERS="abc"');
    expect(serveAbc.stderr).toContain('MATCH_BATCH_WAIT_MS="-1": must be a non-negative integer');
  });
});
