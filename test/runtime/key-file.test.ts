import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/runtime/config.js";
import { keyDigest, parseKeyFile } from "../../services/runtime/keys/key-file.js";
import { ApiKeyStore, readKeyFile } from "../../services/runtime/keys/key-store.js";
import { ApiKeyAuth } from "../../services/runtime/auth.js";

const dir = mkdtempSync(join(tmpdir(), "mlmesh-keyfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const KEY = "a-long-enough-key-0123456789";

describe("the API key file", () => {
  it("reads names, keys or their SHA-256, and scopes", () => {
    const entries = parseKeyFile(
      JSON.stringify([
        { name: "travel-app", key: KEY, scopes: ["infer"] },
        { name: "ops.team_1", sha256: createHash("sha256").update("another-key-0123456789").digest("hex"), scopes: ["jobs", "admin"] },
      ]),
    );
    expect(entries.map((e) => [e.name, [...e.scopes]])).toEqual([
      ["travel-app", ["infer"]],
      ["ops.team_1", ["jobs", "admin"]],
    ]);
    expect(entries[0].digest).toEqual(createHash("sha256").update(KEY).digest());
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["not a list", "{}", /must be a JSON array/],
    ["an empty list", "[]", /lists no key/],
    ["an unknown scope", JSON.stringify([{ name: "a", key: KEY, scopes: ["root"] }]), /entry 0 \('a'\): unknown scope "root"/],
    ["no scopes", JSON.stringify([{ name: "a", key: KEY, scopes: [] }]), /scopes must be a non-empty array/],
    ["a short key", JSON.stringify([{ name: "a", key: "short", scopes: ["infer"] }]), /16 characters at least/],
    [
      "key and sha256",
      JSON.stringify([{ name: "a", key: KEY, sha256: "0".repeat(64), scopes: ["infer"] }]),
      /exactly one of key and sha256/,
    ],
    ["a bad sha256", JSON.stringify([{ name: "a", sha256: "xyz", scopes: ["infer"] }]), /64 lower-case hex digits/],
    ["a bad name", JSON.stringify([{ name: "a b", key: KEY, scopes: ["infer"] }]), /entry 0: name must be/],
    [
      "a name twice",
      JSON.stringify([
        { name: "a", key: KEY, scopes: ["infer"] },
        { name: "a", key: `${KEY}x`, scopes: ["infer"] },
      ]),
      /entry 1 \('a'\): the name is used twice/,
    ],
    [
      "a key twice",
      JSON.stringify([
        { name: "a", key: KEY, scopes: ["infer"] },
        { name: "b", key: KEY, scopes: ["jobs"] },
      ]),
      /the same key is listed twice/,
    ],
    ["an unknown field", JSON.stringify([{ name: "a", key: KEY, scopes: ["infer"], role: "x" }]), /unknown field 'role'/],
  ])("refuses %s, naming the entry and the rule, never the key", (_what, text, message) => {
    expect(() => parseKeyFile(text)).toThrow(message);
    try {
      parseKeyFile(text);
    } catch (err) {
      expect((err as Error).message).not.toContain(KEY);
    }
  });

  it("refuses to start with a bad or missing file, naming it", () => {
    const bad = file("bad.json", JSON.stringify([{ name: "a", key: KEY, scopes: ["everything"] }]));
    expect(() => loadConfig({ MLMESH_API_KEYS_FILE: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ MLMESH_API_KEYS_FILE: bad })).toThrow(
      `MLMESH_API_KEYS_FILE: ${bad}: entry 0 ('a'): unknown scope "everything"`,
    );
    expect(() => loadConfig({ MLMESH_API_KEYS_FILE: join(dir, "missing.json") })).toThrow(/missing\.json: cannot be read \(ENOENT\)/);
    const good = file("good.json", JSON.stringify([{ name: "a", key: KEY, scopes: ["infer"] }]));
    const config = loadConfig({ MLMESH_API_KEYS_FILE: good });
    expect(config.apiKeyFileEntries.map((e) => e.name)).toEqual(["a"]);
    expect(config.apiKeys).toEqual([]);
  });

  it("makes `mlmesh serve` exit with the configuration error code on a bad file", () => {
    const bad = file("corrupt.json", "[{");
    const run = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", "serve"], {
      env: { ...process.env, MLMESH_API_KEYS: "", MLMESH_API_KEYS_FILE: bad },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`MLMESH_API_KEYS_FILE: ${bad}: not valid JSON`);
  });

  it("reads MLMESH_REFLECTION as on, off or key, on by default", () => {
    const keys = { MLMESH_API_KEYS: KEY };
    expect(loadConfig(keys).reflection).toBe("on");
    expect(loadConfig({ ...keys, MLMESH_REFLECTION: "off" }).reflection).toBe("off");
    expect(loadConfig({ ...keys, MLMESH_REFLECTION: "key" }).reflection).toBe("key");
    expect(() => loadConfig({ ...keys, MLMESH_REFLECTION: "yes" })).toThrow(/MLMESH_REFLECTION="yes": must be on, off or key/);
  });
});

describe("a key file mounted from a Kubernetes Secret", () => {
  it("follows the Secret's symlink swap (..data to a new directory) without a restart", async () => {
    // What the kubelet lays out: keys.json -> ..data/keys.json, ..data -> ..<timestamp>/, swapped by a rename.
    const mount = join(dir, "secret");
    const version = (name: string, entries: unknown) => {
      mkdirSync(join(mount, name), { recursive: true });
      writeFileSync(join(mount, name, "keys.json"), JSON.stringify(entries));
    };
    version("..v1", [{ name: "first", key: KEY, scopes: ["infer"] }]);
    symlinkSync("..v1", join(mount, "..data"));
    symlinkSync("..data/keys.json", join(mount, "keys.json"));
    const path = join(mount, "keys.json");
    const store = new ApiKeyStore([], path, readKeyFile(path).entries);
    store.watch(200);
    try {
      expect(store.names).toEqual(["first"]);
      version("..v2", [{ name: "second", key: `${KEY}-2`, scopes: ["jobs"] }]);
      symlinkSync("..v2", join(mount, "..data_tmp"));
      renameSync(join(mount, "..data_tmp"), join(mount, "..data"));
      await expect.poll(() => store.names, { timeout: 30_000, interval: 50 }).toEqual(["second"]);
      expect(store.entries[0].digest).toEqual(keyDigest(`${KEY}-2`));
    } finally {
      store.close();
    }
  });
});

describe("authentication with keys from the file", () => {
  const headers = (key: string) => new Headers({ authorization: `Bearer ${key}` });
  const OTHER = "the-next-key-0123456789abcdef";

  it("stops accepting a key the file no longer lists, though the key was accepted before", () => {
    const path = file("rotating.json", JSON.stringify([{ name: "first", key: KEY, scopes: ["infer"] }]));
    const auth = new ApiKeyAuth(new ApiKeyStore([], path, readKeyFile(path).entries));
    expect(auth.authenticate(headers(KEY)).name).toBe("first");
    expect(auth.authenticate(headers(KEY)).name).toBe("first");
    writeFileSync(path, JSON.stringify([{ name: "second", key: OTHER, scopes: ["jobs"] }]));
    expect(auth.keys.reload("test")).toBe(true);
    expect(() => auth.authenticate(headers(KEY))).toThrow(/invalid API key/);
    expect([...auth.authenticate(headers(OTHER)).scopes]).toEqual(["jobs"]);
  });

  it("answers a key the file renames or rescopes with its new name and scopes", () => {
    const path = file("rescoped.json", JSON.stringify([{ name: "before", key: KEY, scopes: ["infer"] }]));
    const auth = new ApiKeyAuth(new ApiKeyStore([], path, readKeyFile(path).entries));
    expect(auth.authenticate(headers(KEY)).name).toBe("before");
    writeFileSync(path, JSON.stringify([{ name: "after", key: KEY, scopes: ["admin"] }]));
    auth.keys.reload("test");
    const caller = auth.authenticate(headers(KEY));
    expect([caller.name, [...caller.scopes]]).toEqual(["after", ["admin"]]);
  });

  it("refuses a wrong key every time, however often it is sent", () => {
    const path = file("wrong.json", JSON.stringify([{ name: "only", key: KEY, scopes: ["infer"] }]));
    const auth = new ApiKeyAuth(new ApiKeyStore([], path, readKeyFile(path).entries));
    for (let i = 0; i < 300; i++) expect(() => auth.authenticate(headers(`${KEY}x`))).toThrow(/invalid API key/);
    expect(auth.authenticate(headers(KEY)).name).toBe("only");
  });
});
