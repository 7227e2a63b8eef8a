/** The mesh's configuration, read from the environment and checked at start. */
export interface MeshConfig {
  grpcPort: number;
  connectPort: number;
  adminPort: number;
  gatewayPort: number;
  host: string;
  apiKeys: string[];
  authDisabled: boolean;
  /** postgres:// URL; undefined runs embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string;
  /** MLMESH_REDIS_PREFIX: the first part of every Redis cache key and of the models channel; deployments sharing one Redis keep apart by it. */
  redisPrefix: string;
  maxMessageBytes: number;
  shutdownGraceMs: number;
  /** MLMESH_MODEL_AB_WEIGHTS as given (JSON, checked here); each model reads its own split. */
  modelAbWeights: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error";
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
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
  if (apiKeys.length === 0 && !authDisabled) {
    problems.push("MLMESH_API_KEYS is empty: set comma-separated API keys, or MLMESH_AUTH_DISABLED=true for local use only");
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
  const redisPrefix = env.MLMESH_REDIS_PREFIX?.trim() || "mlmesh";
  if (!/^[A-Za-z0-9_-]+$/.test(redisPrefix)) problems.push(`MLMESH_REDIS_PREFIX=${JSON.stringify(redisPrefix)}: letters, digits, - and _ only`);

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

  const config: MeshConfig = {
    grpcPort: port("GRPC_PORT", 50051),
    connectPort: port("CONNECT_PORT", 8080),
    adminPort: port("ADMIN_PORT", 9464),
    gatewayPort: port("GATEWAY_PORT", 8000),
    host: env.MLMESH_HOST?.trim() || "0.0.0.0",
    apiKeys,
    authDisabled,
    databaseUrl,
    dataDir: env.MLMESH_DATA_DIR?.trim() || ".data",
    redisUrl,
    redisPrefix,
    maxMessageBytes: positiveInt("MLMESH_MAX_MESSAGE_BYTES", 4 * 1024 * 1024),
    shutdownGraceMs: positiveInt("MLMESH_SHUTDOWN_GRACE_MS", 10_000),
    modelAbWeights,
    logLevel,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
