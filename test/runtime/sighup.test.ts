import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest, MeshProcess, SAMPLE_FORECAST } from "../hostile/mesh-process.js";
import { testScope } from "../support/scope.js";

const OLD_KEY = "sighup-old-key-0123456789";
const NEW_KEY = "sighup-new-key-0123456789";

/** `mlmesh serve` re-reads MLMESH_API_KEYS_FILE on SIGHUP, keeps serving, and keeps its keys when the file is bad. */
describe("mlmesh serve and SIGHUP", () => {
  const dir = mkdtempSync(join(tmpdir(), "mlmesh-sighup-"));
  const keyFile = join(dir, "keys.json");
  let mesh: MeshProcess;
  beforeAll(async () => {
    writeFileSync(keyFile, JSON.stringify([{ name: "app-old", key: OLD_KEY, scopes: ["infer"] }]));
    mesh = await MeshProcess.start({ ...(await testScope()).env, MLMESH_API_KEYS_FILE: keyFile });
  });
  afterAll(async () => {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const forecastWith = async (key: string) =>
    (
      await httpRequest(mesh.ports.gateway, "POST", "/forecast/demand", SAMPLE_FORECAST, {
        "content-type": "application/json",
        authorization: `Bearer ${key}`,
      })
    ).status;

  /** Sends SIGHUP and waits for the log line it causes (the file watch may have taken a change already). */
  async function hangUp(): Promise<string> {
    const before = mesh.log.length;
    mesh.signal("SIGHUP");
    await expect.poll(() => mesh.log.slice(before).includes("reload requested (SIGHUP)"), { timeout: 60_000, interval: 100 }).toBe(true);
    return mesh.log.slice(before);
  }

  it("takes the new keys on SIGHUP without a restart", async () => {
    expect(await forecastWith(OLD_KEY)).toBe(200);
    writeFileSync(keyFile, JSON.stringify([{ name: "app-new", key: NEW_KEY, scopes: ["infer"] }]));
    await hangUp();
    expect(mesh.alive).toBe(true);
    expect(await forecastWith(NEW_KEY)).toBe(200);
    expect(await forecastWith(OLD_KEY)).toBe(401);
  });

  it("keeps the keys it has when the file is corrupt, and says so", async () => {
    writeFileSync(keyFile, '[{"name": "app-new", "key": ');
    const logged = await hangUp();
    expect(logged).toContain("API key file not reloaded: keeping the keys loaded before");
    expect(logged).not.toContain(NEW_KEY);
    expect(await forecastWith(NEW_KEY)).toBe(200);
    await mesh.assertHealthy();
  });
});
