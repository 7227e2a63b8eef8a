import type { ClientMiddleware } from "nice-grpc";
import { Metadata } from "nice-grpc";

/**
 * Sends the API key as `authorization: Bearer <key>`, one of the two forms the
 * mesh accepts (the other is `x-api-key`), unless the call brings its own.
 */
export function apiKeyMiddleware(apiKey: string | undefined): ClientMiddleware {
  return async function* withApiKey(call, options) {
    if (apiKey === undefined || options.metadata?.has("authorization") || options.metadata?.has("x-api-key")) {
      return yield* call.next(call.request, options);
    }
    const metadata = Metadata(options.metadata);
    metadata.set("authorization", `Bearer ${apiKey}`);
    return yield* call.next(call.request, { ...options, metadata });
  };
}
