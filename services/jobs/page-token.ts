import { MeshError } from "../runtime/errors.js";
import { Status } from "../runtime/status.js";
import { isUuid } from "./uuid.js";

/** Where the previous page ended. Opaque to clients (AIP-158); only its shape is checked. */
export interface PageCursor {
  jobId: string;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, after: cursor.jobId })).toString("base64url");
}

export function decodePageToken(token: string): PageCursor | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { v?: number; after?: unknown };
    // A token naming no UUID would fail the database cast and read as an outage; it is a bad argument.
    if (parsed.v === 1 && typeof parsed.after === "string" && isUuid(parsed.after)) return { jobId: parsed.after };
  } catch {
    // fall through to the error below
  }
  throw new MeshError(Status.INVALID_ARGUMENT, "page_token: not a token this server issued", [
    { field: "page_token", rule: "page_token.valid", message: "not a token this server issued" },
  ]);
}
