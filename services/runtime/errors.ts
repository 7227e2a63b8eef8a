import { Status } from "./status.js";

/** A field that broke a contract rule, as INVALID_ARGUMENT reports it. */
export interface FieldViolation {
  field: string;
  rule: string;
  message: string;
}

/**
 * The one error type handlers throw. Its message goes to the client as is, so
 * it must never carry internals; anything else thrown becomes INTERNAL with a
 * generic message and is logged server-side.
 */
export class MeshError extends Error {
  override readonly name = "MeshError";
  constructor(
    readonly code: Status,
    message: string,
    readonly violations: readonly FieldViolation[] = [],
  ) {
    super(message);
  }

  static notFound(message: string): MeshError {
    return new MeshError(Status.NOT_FOUND, message);
  }

  static unimplemented(what: string): MeshError {
    return new MeshError(Status.UNIMPLEMENTED, `${what} is not implemented yet`);
  }

  static unavailable(message: string): MeshError {
    return new MeshError(Status.UNAVAILABLE, message);
  }
}

/** What a client may see of any thrown value. */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  if (isAbort(err)) return new MeshError(Status.CANCELLED, "the call was cancelled");
  return new MeshError(Status.INTERNAL, "internal error");
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || (err as { code?: string }).code === "ABORT_ERR");
}
