import { hash } from "node:crypto";
import { SCOPES, type Scope } from "./scopes.js";

/** One API key as the server holds it: its name (what logs and metrics show), the SHA-256 of the key, its scopes. */
export interface ApiKeyEntry {
  readonly name: string;
  readonly digest: Buffer;
  readonly scopes: ReadonlySet<Scope>;
}

/** The shortest key accepted, in characters, from the file or MLMESH_API_KEYS. */
export const MIN_KEY_LENGTH = 16;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const FIELDS = new Set(["name", "key", "sha256", "scopes"]);

/** SHA-256 of a key, the form keys are held and compared in. One-shot: no Hash object per request. */
export function keyDigest(key: string): Buffer {
  return hash("sha256", key, "buffer");
}

/**
 * Parses MLMESH_API_KEYS_FILE: a JSON array of `{"name", "key" or "sha256", "scopes"}`
 * (the SHA-256 of the key in lower-case hex keeps the key itself out of the
 * Secret). Throws an Error naming the entry and the rule it breaks; never
 * quotes a key.
 */
export function parseKeyFile(text: string): ApiKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new Error(`must be a JSON array of {"name", "key" or "sha256", "scopes"}`);
  if (parsed.length === 0) throw new Error("lists no key");
  const names = new Set<string>();
  const digests = new Set<string>();
  return parsed.map((raw: unknown, i) => {
    const where = `entry ${i}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where}: must be an object`);
    const e = raw as Record<string, unknown>;
    for (const field of Object.keys(e)) if (!FIELDS.has(field)) throw new Error(`${where}: unknown field '${field}'`);
    if (typeof e.name !== "string" || !NAME.test(e.name)) {
      throw new Error(`${where}: name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    const at = `entry ${i} ('${e.name}')`;
    if (names.has(e.name)) throw new Error(`${at}: the name is used twice`);
    names.add(e.name);
    if ((e.key === undefined) === (e.sha256 === undefined)) throw new Error(`${at}: give exactly one of key and sha256`);
    let digest: Buffer;
    if (e.key !== undefined) {
      if (typeof e.key !== "string" || e.key.trim().length < MIN_KEY_LENGTH || e.key !== e.key.trim()) {
        throw new Error(`${at}: key must be a string of ${MIN_KEY_LENGTH} characters at least, without surrounding spaces`);
      }
      digest = keyDigest(e.key);
    } else {
      if (typeof e.sha256 !== "string" || !SHA256_HEX.test(e.sha256)) throw new Error(`${at}: sha256 must be 64 lower-case hex digits`);
      digest = Buffer.from(e.sha256, "hex");
    }
    const hex = digest.toString("hex");
    if (digests.has(hex)) throw new Error(`${at}: the same key is listed twice`);
    digests.add(hex);
    if (!Array.isArray(e.scopes) || e.scopes.length === 0)
      throw new Error(`${at}: scopes must be a non-empty array of ${SCOPES.join(", ")}`);
    for (const s of e.scopes) {
      if (!SCOPES.includes(s as Scope)) throw new Error(`${at}: unknown scope ${JSON.stringify(s)} (known: ${SCOPES.join(", ")})`);
    }
    return { name: e.name, digest, scopes: new Set(e.scopes as Scope[]) };
  });
}
