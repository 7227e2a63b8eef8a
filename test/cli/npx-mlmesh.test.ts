import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * `npx mlmesh …` from a clone after `make build`, as the README's examples
 * run it: package.json's bin names a built file that starts with a shebang and
 * is executable. `make test` builds before the tests run (the build takes a
 * minute on a busy machine, and is the same for every test that needs dist/);
 * on a fresh clone that build is the one under test.
 */
describe("the mlmesh command", () => {
  it("is built executable with a shebang, and npx runs it from the repository's root", () => {
    const bin = (JSON.parse(readFileSync("package.json", "utf8")) as { bin: { mlmesh: string } }).bin.mlmesh;
    expect(existsSync(bin), `${bin} is missing: run make build first`).toBe(true);
    expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    // As a shell runs an installed command: the file itself, through its shebang (before npx, which would fix the mode).
    const direct = spawnSync(bin, ["--help"], { encoding: "utf8" });
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toContain("Usage: mlmesh <command>");
    const npx = spawnSync("npx", ["--no-install", "mlmesh", "--help"], { encoding: "utf8" });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout).toContain("Usage: mlmesh <command>");
  });
});
