import { hash, timingSafeEqual } from "node:crypto";
import type { Metadata } from "./context.js";
import { MeshError } from "./errors.js";
import { Status } from "./status.js";

/**
 * API-key authentication. Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key, so neither the key's length
 * nor which key matched leaks through timing.
 */
export class ApiKeyAuth {
  private readonly digests: Buffer[];

  constructor(
    keys: readonly string[],
    readonly disabled = false,
  ) {
    this.digests = keys.map(digest);
  }

  /** Returns a label for the caller's key, or throws UNAUTHENTICATED. */
  authenticate(headers: Metadata): string {
    if (this.disabled) return "anonymous";
    const presented = presentedKey(headers);
    if (presented === undefined) {
      throw new MeshError(Status.UNAUTHENTICATED, "missing API key: send 'authorization: Bearer <key>' or 'x-api-key: <key>'");
    }
    const candidate = digest(presented);
    let match = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(candidate, this.digests[i]) && match < 0) match = i;
    }
    if (match < 0) throw new MeshError(Status.UNAUTHENTICATED, "invalid API key");
    return `key-${match}`;
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

// One-shot: no Hash object (a native object with a finalizer) per request; 1.5 us became 1.25 here.
function digest(key: string): Buffer {
  return hash("sha256", key, "buffer");
}
