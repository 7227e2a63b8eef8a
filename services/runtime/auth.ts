import { timingSafeEqual } from "node:crypto";
import type { MeshConfig } from "./config.js";
import type { Metadata } from "./context.js";
import { MeshError } from "./errors.js";
import { keyDigest } from "./keys/key-file.js";
import { ApiKeyStore, legacyKeys } from "./keys/key-store.js";
import { ALL_SCOPES, type Scope } from "./keys/scopes.js";
import { Status } from "./status.js";

/** Who called: the key's name (never the key) and its scopes. */
export interface Caller {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** How many matched keys' digests are kept: far more than a deployment configures. */
const MATCHED_KEYS = 256;

/** The caller of a server running with MLMESH_AUTH_DISABLED (local use only). */
export const ANONYMOUS: Caller = { name: "anonymous", scopes: ALL_SCOPES };

/**
 * API-key authentication. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key, so neither the key's length
 * nor which key matched leaks through timing.
 */
export class ApiKeyAuth {
  /**
   * Digests of keys that matched, by key: a caller's every call hashed its key
   * again. Only keys that matched are kept (a flood of wrong keys cannot grow
   * it), and a kept digest is still compared with every configured key, so a
   * key removed from the store stops matching at once. A hit skips only the
   * hash: a prober learns from the time no more than the answer tells it.
   */
  private readonly matched = new Map<string, Buffer>();

  constructor(
    readonly keys: ApiKeyStore,
    readonly disabled = false,
  ) {}

  /** Returns the caller's key name and scopes, or throws UNAUTHENTICATED. */
  authenticate(headers: Metadata): Caller {
    if (this.disabled) return ANONYMOUS;
    const presented = presentedKey(headers);
    if (presented === undefined) {
      throw new MeshError(Status.UNAUTHENTICATED, "missing API key: send 'authorization: Bearer <key>' or 'x-api-key: <key>'");
    }
    const known = this.matched.get(presented);
    const candidate = known ?? keyDigest(presented);
    const entries = this.keys.entries;
    let match: Caller | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(candidate, entry.digest) && match === undefined) match = entry;
    }
    if (match === undefined) throw new MeshError(Status.UNAUTHENTICATED, "invalid API key");
    if (!known) {
      if (this.matched.size >= MATCHED_KEYS) this.matched.clear();
      this.matched.set(presented, candidate);
    }
    return match;
  }

  /** The caller, or undefined for a missing or invalid key (the admin port answers 401 itself). */
  tryAuthenticate(headers: Metadata): Caller | undefined {
    try {
      return this.authenticate(headers);
    } catch {
      return undefined;
    }
  }
}

function presentedKey(headers: Metadata): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (m) return m[1];
  }
  const apiKey = headers.get("x-api-key");
  return apiKey ? apiKey.trim() : undefined;
}

/** The authentication `config` asks for: MLMESH_API_KEYS (every scope) and MLMESH_API_KEYS_FILE's keys. Call `keys.watch()` to follow the file. */
export function authFor(config: Pick<MeshConfig, "apiKeys" | "apiKeysFile" | "apiKeyFileEntries" | "authDisabled">): ApiKeyAuth {
  return new ApiKeyAuth(new ApiKeyStore(legacyKeys(config.apiKeys), config.apiKeysFile, config.apiKeyFileEntries), config.authDisabled);
}
