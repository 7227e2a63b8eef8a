import http from "node:http";
import type { Caller } from "./auth.js";
import type { Scope } from "./keys/scopes.js";
import type { MeshMetrics } from "./metrics.js";
import { guardHttp1, http1Options, type ListenerLimits } from "./transports/listener-limits.js";

/** What /readyz reports: ready, or the reasons it is not. */
export type ReadinessCheck = () => Promise<string[]>;

/** Scopes a page needs: `read` for GET and HEAD, `write` for anything else. */
export type PageScopes = { read: Scope; write: Scope };

type Mount = { prefix: string; handler: (req: http.IncomingMessage, res: http.ServerResponse) => void; auth: PageScopes | false };

/**
 * The admin port: /metrics for Prometheus, /healthz (the process is alive),
 * /readyz (storage reachable, models loaded and warmed), plus whatever other
 * parts mount (the queue dashboard, the OpenAPI document).
 */
export class AdminServer {
  readonly server: http.Server;
  private readonly mounts: Mount[] = [];

  constructor(
    private readonly limits: ListenerLimits,
    private readonly metrics: MeshMetrics,
    private readonly readiness: ReadinessCheck,
    private readonly authenticate: (headers: Headers) => Caller | undefined,
  ) {
    this.server = http.createServer(http1Options(limits), (req, res) => void this.route(req, res));
    guardHttp1(this.server, "admin");
  }

  /** Serves `handler` under `prefix`; with auth, only for a valid API key holding the scope the request method needs. */
  mount(prefix: string, handler: Mount["handler"], options: { auth: PageScopes | false }): void {
    this.mounts.push({ prefix, handler, auth: options.auth });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve((this.server.address() as { port: number }).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    try {
      // Nothing here takes a large body: refuse a declared one before anything reads it.
      if (Number(req.headers["content-length"] ?? 0) > this.limits.maxBodyBytes) {
        res.writeHead(413, { "content-type": "text/plain", connection: "close" }).end("request body too large\n");
        return;
      }
      if (path === "/metrics") {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { "content-type": this.metrics.registry.contentType }).end(body);
        return;
      }
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
        return;
      }
      if (path === "/readyz") {
        const problems = await this.readiness();
        res
          .writeHead(problems.length ? 503 : 200, { "content-type": "application/json" })
          .end(JSON.stringify({ ready: problems.length === 0, problems }));
        return;
      }
      for (const m of this.mounts) {
        if (path === m.prefix || path.startsWith(`${m.prefix}/`)) {
          if (m.auth) {
            const caller = this.authenticate(toHeaders(req));
            if (!caller) {
              res.writeHead(401, { "www-authenticate": 'Basic realm="ml-mesh admin", charset="UTF-8"' }).end("unauthorized");
              return;
            }
            const scope = req.method === "GET" || req.method === "HEAD" ? m.auth.read : m.auth.write;
            if (!caller.scopes.has(scope)) {
              res
                .writeHead(403, { "content-type": "text/plain" })
                .end(`this key lacks the scope '${scope}' needed by ${req.method} ${m.prefix} on the admin port\n`);
              return;
            }
          }
          m.handler(req, res);
          return;
        }
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    } catch {
      res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
    }
  }
}

function toHeaders(req: http.IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") h.set(k, v);
  // Browsers can only send Basic auth to a dashboard: the API key is the password, any user name.
  const basic = /^Basic\s+(.+)$/i.exec(h.get("authorization") ?? "");
  if (basic) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    h.delete("authorization");
    h.set("x-api-key", decoded.slice(decoded.indexOf(":") + 1));
  }
  return h;
}
