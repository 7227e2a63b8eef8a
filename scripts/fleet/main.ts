// `make fleet`: a local fleet of mesh replicas and workers behind HAProxy, in the foreground until
// Ctrl-C. DATABASE_URL and REDIS_URL from the environment, or the machine's PostgreSQL (database
// mlmesh_fleet, created when missing) and Redis under the prefix `fleet`. Seeded as `make dev`
// seeds (the sample set, match and recommendation models trained) when the database has no travellers.
//   FLEET_REPLICAS (3), FLEET_WORKERS (2), MLMESH_API_KEYS (else .data/fleet-api-key, made once).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { runCli, startFleet } from "./fleet.js";
import { PROXY_SETTINGS } from "./proxy-settings.js";

const ROOT = join(import.meta.dirname, "../..").replace(/\/dist$/, "");
const cli = [process.execPath, join(ROOT, "dist/cli/main.js")];

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`${name} must be an integer from 1 to 16 (got '${raw}')`);
  return n;
}

/** The database named in `url`, created on its server when it does not exist. */
async function ensureDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const server = new URL(url);
  server.pathname = "/postgres";
  const sql = postgres(server.toString(), { max: 1, onnotice: () => {} });
  try {
    const [{ exists }] = await sql<{ exists: boolean }[]>`select exists(select 1 from pg_database where datname = ${name})`;
    if (!exists) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await sql.end();
  }
}

async function travellers(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from travellers`;
    return n;
  } finally {
    await sql.end();
  }
}

async function main(): Promise<void> {
  const replicas = count("FLEET_REPLICAS", 3);
  const workers = count("FLEET_WORKERS", 2);
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/mlmesh_fleet";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  mkdirSync(join(ROOT, ".data"), { recursive: true });
  const keyFile = join(ROOT, ".data/fleet-api-key");
  if (!process.env.MLMESH_API_KEYS && !existsSync(keyFile)) writeFileSync(keyFile, randomBytes(16).toString("hex"));
  const keys = process.env.MLMESH_API_KEYS ?? readFileSync(keyFile, "utf8").trim();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    MLMESH_REDIS_PREFIX: process.env.MLMESH_REDIS_PREFIX ?? "fleet",
    MLMESH_API_KEYS: keys,
  };
  if (!process.env.DATABASE_URL) await ensureDatabase(databaseUrl);
  await runCli(cli, ["migrate"], env);
  if ((await travellers(databaseUrl)) === 0) {
    process.stdout.write("seeding the sample set and training the first models (as make dev does)...\n");
    await runCli(cli, ["seed", "--sample"], env);
    await runCli(cli, ["train", "match"], env);
    await runCli(cli, ["train", "recommend"], env);
  }
  const dir = join(ROOT, "build/fleet");
  const fleet = await startFleet({ replicas, workers, cli, env, settings: PROXY_SETTINGS, dir });
  const key = keys.split(",")[0];
  const p = fleet.proxy;
  process.stdout.write(`
ml-mesh fleet: ${replicas} replicas, ${workers} workers, HAProxy in front (config ${join(dir, "haproxy.cfg")}, logs ${dir}/*.log)
  gRPC     ${p.host}:${p.grpc}            (h2c)
  Connect  http://${p.host}:${p.connect}   (HTTP/1.1 and h2c)
  REST     http://${p.host}:${p.rest}
  HAProxy  http://127.0.0.1:${p.stats}/stats
  API key  ${key}
${fleet.replicas.map((r) => `  ${r.name}   pid ${r.child.pid}  gRPC ${r.ports.grpc}  Connect ${r.ports.connect}  REST ${r.ports.gateway}  admin ${r.ports.admin}`).join("\n")}
  kill -TERM <pid> drains a replica (NOT_SERVING, served on for ${fleet.drainMs} ms, then GOAWAY and exit; not restarted). Ctrl-C stops the fleet.
`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stdout.write("stopping the fleet...\n");
  await fleet.stop();
}

main().catch((err) => {
  process.stderr.write(`make fleet: ${(err as Error).message}\n`);
  process.exit(1);
});
