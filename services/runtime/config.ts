import type { ApiKeyEntry } from "./keys/key-file.js";
import { readKeyFile } from "./keys/key-store.js";
import { CORS_ORIGIN_PATTERN } from "./transports/cors.js";
import { readTracingConfig, type TracingConfig } from "./tracing-config.js";

/** The mesh's configuration, read from the environment and checked at start. */
export interface MeshConfig {
  grpcPort: number;
  connectPort: number;
  adminPort: number;
  gatewayPort: number;
  host: string;
  apiKeys: string[];
  authDisabled: boolean;
  /** MLMESH_API_KEYS_FILE: named, scoped keys (JSON), watched and re-read without a restart. */
  apiKeysFile: string | undefined;
  /** The key file's keys as read at start (a bad file refuses to start). */
  apiKeyFileEntries: readonly ApiKeyEntry[];
  /** MLMESH_REFLECTION: gRPC server reflection on, off, or for any valid key. */
  reflection: "on" | "off" | "key";
  /** postgres:// URL; undefined runs embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string;
  /** MLMESH_REDIS_PREFIX: the first part of every Redis cache key and of the models channel; deployments sharing one Redis keep apart by it. */
  redisPrefix: string;
  maxMessageBytes: number;
  shutdownGraceMs: number;
  /** MLMESH_SHUTDOWN_DRAIN_MS: after SIGTERM, how long health answers NOT_SERVING while calls are still served, so a proxy's health checks take the replica out first. */
  shutdownDrainMs: number;
  /** MLMESH_MODEL_AB_WEIGHTS as given (JSON, checked here); each model reads its own split. */
  modelAbWeights: string | undefined;
  /** MLMESH_MODEL_KEEP_VERSIONS: versions the registry keeps per model (besides serving and rollback target). */
  modelKeepVersions: number;
  /** MATCH_BATCH_MAX: pairs scored in one model run at most. */
  matchBatchMax: number;
  /** MATCH_BATCH_WAIT_MS: how long a pair may wait for others to fill its batch (0: no wait). */
  matchBatchWaitMs: number;
  /** MATCH_PREDICTION_CACHE_TTL_MS: how long a ScoreMatch answer is kept in process (0: not cached). */
  matchPredictionCacheTtlMs: number;
  /** MATCH_PROFILE_STORE: every traveller's scoring features held in process, filled after the server is ready (on by default). */
  matchProfileStore: boolean;
  /** FORECAST_WORKERS: worker threads fitting forecasts. */
  forecastWorkers: number;
  /** FORECAST_QUEUE_DEPTH: fits that may wait for a worker; past it a forecast is refused RESOURCE_EXHAUSTED (0: none wait). */
  forecastQueueDepth: number;
  /** MLMESH_MAX_STREAMS_PER_CONNECTION: concurrent HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerConnection: number;
  /** MLMESH_MAX_WATCHES_PER_CONNECTION: open long-lived streams (Health.Watch, WatchJob, reflection) per connection. */
  maxWatchesPerConnection: number;
  /** MLMESH_MAX_WATCHES: open long-lived streams on the whole server. */
  maxWatches: number;
  /** MLMESH_HEADERS_TIMEOUT_MS: a request's headers (and a new connection's first bytes) must arrive within this. */
  headersTimeoutMs: number;
  /** MLMESH_REQUEST_TIMEOUT_MS: a whole HTTP/1.1 request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** MLMESH_IDLE_TIMEOUT_MS: a connection with nothing in flight is closed after this. */
  idleTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** MLMESH_CORS_ORIGINS: origins whose browser pages may call the Connect port (none by default). */
  corsOrigins: string[];
  /** The OTEL_* settings: where spans go, the sampler, the resource (tracing-config.ts). */
  tracing: TracingConfig;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * A numeric setting: an integer from `min` to `max` (if it has one), or `fallback` when unset.
 * Every numeric setting is checked here, at start, so a bad value refuses to
 * start with its name and rule instead of surfacing later as NaN.
 */
export interface IntSetting {
  readonly name: string;
  readonly fallback: number;
  readonly min: number;
  readonly max?: number;
}

/** The numeric settings read by the service areas and the model registry, with their bounds. */
export const NUMERIC_SETTINGS = {
  modelKeepVersions: { name: "MLMESH_MODEL_KEEP_VERSIONS", fallback: 5, min: 1, max: 1000 },
  matchBatchMax: { name: "MATCH_BATCH_MAX", fallback: 256, min: 1, max: 65_536 },
  matchBatchWaitMs: { name: "MATCH_BATCH_WAIT_MS", fallback: 1, min: 0, max: 1000 },
  shutdownDrainMs: { name: "MLMESH_SHUTDOWN_DRAIN_MS", fallback: 0, min: 0, max: 600_000 },
  matchPredictionCacheTtlMs: { name: "MATCH_PREDICTION_CACHE_TTL_MS", fallback: 5 * 60_000, min: 0, max: 24 * 3_600_000 },
  forecastWorkers: { name: "FORECAST_WORKERS", fallback: 1, min: 1, max: 256 },
  forecastQueueDepth: { name: "FORECAST_QUEUE_DEPTH", fallback: 64, min: 0, max: 100_000 },
  maxStreamsPerConnection: { name: "MLMESH_MAX_STREAMS_PER_CONNECTION", fallback: 100, min: 1, max: 10_000 },
  maxWatchesPerConnection: { name: "MLMESH_MAX_WATCHES_PER_CONNECTION", fallback: 16, min: 1, max: 10_000 },
  maxWatches: { name: "MLMESH_MAX_WATCHES", fallback: 10_000, min: 1, max: 1_000_000 },
  headersTimeoutMs: { name: "MLMESH_HEADERS_TIMEOUT_MS", fallback: 10_000, min: 100, max: 600_000 },
  requestTimeoutMs: { name: "MLMESH_REQUEST_TIMEOUT_MS", fallback: 60_000, min: 100, max: 3_600_000 },
  idleTimeoutMs: { name: "MLMESH_IDLE_TIMEOUT_MS", fallback: 120_000, min: 100, max: 86_400_000 },
} as const satisfies Record<string, IntSetting>;

/** Reads one numeric setting; a problem (naming the variable and its rule) goes to `problems`, and the fallback is returned. */
export function readInt(env: NodeJS.ProcessEnv, setting: IntSetting, problems: string[]): number {
  const raw = env[setting.name]?.trim();
  if (raw === undefined || raw === "") return setting.fallback;
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < setting.min || (setting.max !== undefined && n > setting.max)) {
    const rule =
      setting.min === 0 ? "a non-negative integer" : setting.min === 1 ? "a positive integer" : `an integer of at least ${setting.min}`;
    problems.push(
      `${setting.name}=${JSON.stringify(env[setting.name])}: must be ${rule}${setting.max === undefined ? "" : `, at most ${setting.max}`}`,
    );
    return setting.fallback;
  }
  return n;
}

/**
 * A prefix that keeps deployments sharing one Redis apart (MLMESH_REDIS_PREFIX,
 * MLMESH_QUEUE_PREFIX): "mlmesh" when unset; letters, digits, - and _, so it
 * cannot break the keys and channels it starts.
 */
export function readPrefix(env: NodeJS.ProcessEnv, name: string, problems: string[]): string {
  const prefix = env[name]?.trim() || "mlmesh";
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) problems.push(`${name}=${JSON.stringify(prefix)}: letters, digits, - and _ only`);
  return prefix;
}

/** One numeric setting, checked on its own (for code that runs without the mesh's config: CLI commands, jobs). */
export function intSetting(setting: IntSetting, env: NodeJS.ProcessEnv = process.env): number {
  const problems: string[] = [];
  const n = readInt(env, setting, problems);
  if (problems.length) throw new ConfigError(problems);
  return n;
}

/** Reads and checks the configuration; every bad value is named at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MeshConfig {
  const problems: string[] = [];
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a port number from 0 to 65535`);
      return fallback;
    }
    return n;
  };
  const positiveInt = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a positive integer`);
      return fallback;
    }
    return n;
  };
  const flag = (name: string): boolean => {
    const raw = (env[name] ?? "").toLowerCase();
    if (raw === "" || raw === "0" || raw === "false" || raw === "no") return false;
    if (raw === "1" || raw === "true" || raw === "yes") return true;
    problems.push(`${name}=${JSON.stringify(env[name])}: must be true or false`);
    return false;
  };

  const apiKeys = (env.MLMESH_API_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  const authDisabled = flag("MLMESH_AUTH_DISABLED");
  const apiKeysFile = env.MLMESH_API_KEYS_FILE?.trim() || undefined;
  let apiKeyFileEntries: ApiKeyEntry[] = [];
  if (apiKeysFile) {
    try {
      apiKeyFileEntries = readKeyFile(apiKeysFile).entries;
    } catch (err) {
      problems.push(`MLMESH_API_KEYS_FILE: ${(err as Error).message}`);
    }
  }
  if (apiKeys.length === 0 && !apiKeysFile && !authDisabled) {
    problems.push(
      "MLMESH_API_KEYS is empty: set comma-separated API keys or MLMESH_API_KEYS_FILE, or MLMESH_AUTH_DISABLED=true for local use only",
    );
  }
  const reflection = (env.MLMESH_REFLECTION?.trim() || "on") as MeshConfig["reflection"];
  if (!["on", "off", "key"].includes(reflection)) {
    problems.push(`MLMESH_REFLECTION=${JSON.stringify(env.MLMESH_REFLECTION)}: must be on, off or key`);
  }
  for (const k of apiKeys) {
    if (k.length < 16) problems.push(`MLMESH_API_KEYS: a key of ${k.length} characters is too short (16 at least)`);
  }

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must start with postgres:// or postgresql://`);
  }
  const redisUrl = env.REDIS_URL?.trim() || "redis://127.0.0.1:6379";
  if (!/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL must start with redis:// or rediss://`);
  const redisPrefix = readPrefix(env, "MLMESH_REDIS_PREFIX", problems);

  const logLevel = (env.LOG_LEVEL ?? "info") as MeshConfig["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: must be debug, info, warn or error`);
  }

  const modelAbWeights = env.MLMESH_MODEL_AB_WEIGHTS?.trim() || undefined;
  if (modelAbWeights) {
    try {
      const parsed = JSON.parse(modelAbWeights) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    } catch {
      problems.push(`MLMESH_MODEL_AB_WEIGHTS must be a JSON object like {"match": {"serving": 0.9, "7": 0.1}}`);
    }
  }

  const corsOrigins = (env.MLMESH_CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of corsOrigins) {
    if (!CORS_ORIGIN_PATTERN.test(o)) {
      problems.push(
        `MLMESH_CORS_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port], '*.' before the host, ':*' for any port, or *)`,
      );
    }
  }

  const config: MeshConfig = {
    grpcPort: port("GRPC_PORT", 50051),
    connectPort: port("CONNECT_PORT", 8080),
    adminPort: port("ADMIN_PORT", 9464),
    gatewayPort: port("GATEWAY_PORT", 8000),
    host: env.MLMESH_HOST?.trim() || "0.0.0.0",
    apiKeys,
    authDisabled,
    apiKeysFile,
    apiKeyFileEntries,
    reflection,
    databaseUrl,
    dataDir: env.MLMESH_DATA_DIR?.trim() || ".data",
    redisUrl,
    redisPrefix,
    maxMessageBytes: positiveInt("MLMESH_MAX_MESSAGE_BYTES", 4 * 1024 * 1024),
    shutdownGraceMs: positiveInt("MLMESH_SHUTDOWN_GRACE_MS", 10_000),
    shutdownDrainMs: readInt(env, NUMERIC_SETTINGS.shutdownDrainMs, problems),
    modelAbWeights,
    modelKeepVersions: readInt(env, NUMERIC_SETTINGS.modelKeepVersions, problems),
    matchBatchMax: readInt(env, NUMERIC_SETTINGS.matchBatchMax, problems),
    matchBatchWaitMs: readInt(env, NUMERIC_SETTINGS.matchBatchWaitMs, problems),
    matchPredictionCacheTtlMs: readInt(env, NUMERIC_SETTINGS.matchPredictionCacheTtlMs, problems),
    matchProfileStore: (env.MATCH_PROFILE_STORE ?? "") === "" || flag("MATCH_PROFILE_STORE"),
    forecastWorkers: readInt(env, NUMERIC_SETTINGS.forecastWorkers, problems),
    forecastQueueDepth: readInt(env, NUMERIC_SETTINGS.forecastQueueDepth, problems),
    maxStreamsPerConnection: readInt(env, NUMERIC_SETTINGS.maxStreamsPerConnection, problems),
    maxWatchesPerConnection: readInt(env, NUMERIC_SETTINGS.maxWatchesPerConnection, problems),
    maxWatches: readInt(env, NUMERIC_SETTINGS.maxWatches, problems),
    headersTimeoutMs: readInt(env, NUMERIC_SETTINGS.headersTimeoutMs, problems),
    requestTimeoutMs: readInt(env, NUMERIC_SETTINGS.requestTimeoutMs, problems),
    idleTimeoutMs: readInt(env, NUMERIC_SETTINGS.idleTimeoutMs, problems),
    logLevel,
    corsOrigins,
    tracing: readTracingConfig(env, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
