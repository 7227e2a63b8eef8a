import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runCli, startFleet, type Fleet } from "../../scripts/fleet/fleet.js";
import { PROXY_SETTINGS, type ProxySettings, withQuickHealthChecks } from "../../scripts/fleet/proxy-settings.js";
import { seedSampleInventory } from "../../services/forecast/seed.js";
import { seedTravellers } from "../../services/match/seed.js";
import { seedDestinations } from "../../services/recommend/seed.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import type { LoadSummary } from "../fixtures/fleet-load.js";
import { TEST_KEY } from "./mesh.js";

/** The fleet's proxy settings for tests: the shared ones, health checked every second instead of every 5 s. */
export const TEST_PROXY_SETTINGS: ProxySettings = withQuickHealthChecks(PROXY_SETTINGS);

/** A small population in `databaseUrl`: travellers, destinations, two products. */
export async function seedFleetDatabase(databaseUrl: string): Promise<string[]> {
  const db = await openDatabase({ url: databaseUrl, dataDir: "" });
  try {
    await migrate(db.sql);
    await seedTravellers(db, { count: 300, seed: 7 });
    await seedDestinations(db, { destinations: 200, users: 300, seed: 7 });
    await seedSampleInventory(db, { products: 2, seed: 7, endDate: "2025-06-30" });
    return (await db.sql<{ id: string }[]>`select id::text from travellers order by id`).map((r) => r.id);
  } finally {
    await db.close();
  }
}

/**
 * The built CLI (dist/, as production runs it: a replica started through tsx spends its first
 * seconds compiling), refused when any source under cli/, services/ or scripts/ is newer than it.
 */
export function builtCli(): string[] {
  const main = "dist/cli/main.js";
  if (!existsSync(main)) throw new Error("the fleet tests run dist/cli/main.js: run `make build` (make test does) first");
  const built = statSync(main).mtimeMs;
  const newer = ["cli", "services", "scripts"].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && statSync(join(dir, f)).mtimeMs > built)
      .map((f) => join(dir, f)),
  );
  if (newer.length) throw new Error(`dist/ is older than ${newer.slice(0, 3).join(", ")}: run \`make build\` first`);
  return [process.execPath, main];
}

/** Trains the first recommendation model, so replicas load it instead of each fitting one at start. */
export async function trainFirstModels(env: Record<string, string>): Promise<void> {
  await runCli(builtCli(), ["train", "recommend"], { ...env, MLMESH_AUTH_DISABLED: "true", LOG_LEVEL: "warn" });
}

/** A fleet of the built CLI, on `env`'s database and Redis, with the test key. */
export function startTestFleet(env: Record<string, string>, replicas: number, workers: number): Promise<Fleet> {
  return startFleet({
    replicas,
    workers,
    cli: builtCli(),
    env: { ...env, MLMESH_API_KEYS: TEST_KEY, LOG_LEVEL: "info" },
    settings: TEST_PROXY_SETTINGS,
    dir: mkdtempSync(join(tmpdir(), "mlmesh-fleet-")),
  });
}

/** The load client (test/fixtures/fleet-load.ts) in its own process, against the proxy's gRPC port. */
export interface LoadClient {
  /** Calls answered so far. */
  ok(): number;
  /** Until `n` more calls have been answered than now. */
  more(n: number): Promise<void>;
  stop(): Promise<LoadSummary>;
}

export async function startLoad(fleet: Fleet, pairs: [string, string][], concurrency = 8): Promise<LoadClient> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/fleet-load.ts", JSON.stringify({ port: fleet.proxy.grpc, key: TEST_KEY, pairs, concurrency })],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let ok = 0;
  let summary: LoadSummary | undefined;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const m = JSON.parse(line) as { ok?: number; summary?: LoadSummary };
    if (m.ok !== undefined) ok = m.ok;
    if (m.summary) summary = m.summary;
  });
  const more = async (n: number) => {
    const target = ok + n;
    while (ok < target) {
      if (child.exitCode !== null) throw new Error("the load client exited");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await more(1);
  return {
    ok: () => ok,
    more,
    async stop() {
      child.stdin!.end("stop\n");
      await exited;
      if (!summary) throw new Error("the load client exited without a summary");
      return summary;
    },
  };
}
