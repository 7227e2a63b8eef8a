import type http from "node:http";
import type http2 from "node:http2";
import { cors } from "@connectrpc/connect";

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/**
 * An entry of MLMESH_CORS_ORIGINS: `*` (any origin), or an origin
 * (`https://app.example.com`) whose leftmost host label may be `*`
 * (`https://*.example.com`, any subdomain) and whose port may be `*`
 * (`http://localhost:*`, any port).
 */
export const CORS_ORIGIN_PATTERN = /^(\*|https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?)$/i;

/** What a browser may send: the headers Connect and gRPC-Web use, the API key's two forms and the trace context. */
const ALLOWED_HEADERS = [...cors.allowedHeaders, "authorization", "x-api-key", "traceparent", "tracestate"].join(", ");
/** What a browser's script may read from a response: gRPC-Web's status and the server's traceparent. */
const EXPOSED_HEADERS = [...cors.exposedHeaders, "traceparent"].join(", ");
const ALLOWED_METHODS = cors.allowedMethods.join(", ");
/** Chromium keeps a preflight's answer two hours at most. */
const PREFLIGHT_MAX_AGE_S = "7200";

/** Whether an Origin header is one of `allowed` (patterns of MLMESH_CORS_ORIGINS). */
export function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  if (allowed.includes("*")) return () => true;
  const patterns = allowed.map(
    (p) =>
      new RegExp(
        `^${p
          .toLowerCase()
          .replace(/[.]/g, "\\.")
          .replace(/^(https?:\/\/)\*\\\./, "$1([a-z0-9-]+\\.)+")
          .replace(/:\*$/, ":\\d{1,5}")}$`,
      ),
  );
  return (origin) => patterns.some((p) => p.test(origin.toLowerCase()));
}

/**
 * CORS for the Connect port, so a browser page on an allowed origin may call
 * it: a preflight (OPTIONS with Access-Control-Request-Method) from an allowed
 * origin is answered 204 with the methods and headers Connect and gRPC-Web
 * need plus the API key's; one from any other origin is refused 403 without
 * CORS headers, so the browser does not send the call. Calls from an allowed
 * origin get Access-Control-Allow-Origin and the exposed headers; a call from
 * another origin is served without them (the browser withholds the answer from
 * the page; the API key, not the origin, is what authorizes a call).
 */
export function withCors(handler: Handler, allowed: readonly string[]): Handler {
  const isAllowed = originMatcher(allowed);
  return (req, res) => {
    const origin = req.headers.origin;
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    const ok = typeof origin === "string" && isAllowed(origin);
    if (allowed.length > 0) res.setHeader("vary", "origin");
    if (preflight) {
      if (!ok) {
        res.writeHead(403, { "content-type": "text/plain" });
        res.end("origin not allowed (MLMESH_CORS_ORIGINS)\n");
        return;
      }
      res.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE_S,
      });
      res.end();
      return;
    }
    if (ok) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
    }
    handler(req, res);
  };
}
