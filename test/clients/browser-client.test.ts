import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forecastArea } from "../../services/forecast/service.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { holdCalls, releaseHeldCalls, slowForecastArea, whenHeld } from "../fixtures/slow-forecast-area.js";
import { SAMPLE_FORECAST } from "../hostile/mesh-process.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

/** @mlmesh/client-web bundled for the browser, as a page's build would: no Node built-in may be in its module graph. */
async function bundleWebClient(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    stdin: { contents: 'export * from "./clients/web/src/index.ts";', resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  return { code: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

/** A page on an origin of its own that loads the bundled client; the test drives it in Chromium. */
async function servePage(bundle: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === "/mlmesh-client.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    res
      .writeHead(200, { "content-type": "text/html" })
      .end(
        '<!doctype html><title>mlmesh</title><script type="module">import * as mlmesh from "/mlmesh-client.js"; window.mlmesh = mlmesh; document.title = "ready";</script>',
      );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the page reports back from a call: the answer's fields, or the error's Connect code and message. */
interface Outcome {
  productId?: string;
  predictions?: number;
  code?: number;
  message?: string;
}

describe("@mlmesh/client-web in headless Chromium against the Connect port (CORS)", () => {
  let allowed: Awaited<ReturnType<typeof servePage>>;
  let other: Awaited<ReturnType<typeof servePage>>;
  let mesh: Mesh;
  let slowMesh: Mesh;
  let browser: BrowserContext;
  let userDataDir: string;
  let inputs: string[];

  beforeAll(async () => {
    const bundle = await bundleWebClient();
    inputs = bundle.inputs;
    allowed = await servePage(bundle.code);
    other = await servePage(bundle.code);
    const env = { ...(await testScope()).env, MLMESH_CORS_ORIGINS: `https://app.example.com,${allowed.origin}` };
    ({ mesh } = await startTestMesh([forecastArea], env));
    ({ mesh: slowMesh } = await startTestMesh([slowForecastArea], env));
    userDataDir = mkdtempSync(join(tmpdir(), "mlmesh-chromium-"));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  afterAll(async () => {
    releaseHeldCalls();
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await Promise.all([mesh?.shutdown(), slowMesh?.shutdown(), allowed?.close(), other?.close()]);
  });

  /** Opens the page on `origin` and runs one forecast call there with the web client. */
  async function callFrom(
    origin: string,
    target: Mesh,
    request: unknown,
    options: { apiKey?: string; defaultTimeoutMs?: number } = {},
  ): Promise<Outcome> {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      await page.waitForFunction('document.title === "ready"');
      return await page.evaluate(
        async ({ baseUrl, request, options }) => {
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports, set on window by the page
          const mlmesh = (globalThis as any).mlmesh;
          const client = mlmesh.createMeshWebClient({ baseUrl, ...options });
          try {
            const res = await client.forecast.forecastDemand(mlmesh.fromJson(mlmesh.forecast.ForecastDemandRequestSchema, request));
            return { productId: res.productId, predictions: res.predictions.length };
          } catch (e) {
            const err = mlmesh.ConnectError.from(e);
            return { code: err.code, message: err.rawMessage };
          }
        },
        { baseUrl: `http://127.0.0.1:${target.ports.connect}`, request, options },
      );
    } finally {
      await page.close();
    }
  }

  it("bundles for the browser with no Node built-in in its module graph", () => {
    expect(inputs.some((i) => i.includes("clients/web/src/client.ts"))).toBe(true);
    expect(inputs.filter((i) => i.startsWith("node:") || i.includes("@connectrpc/connect-node"))).toEqual([]);
  });

  it("forecasts from a page on an allowed origin", async () => {
    const request = JSON.parse(SAMPLE_FORECAST) as { product_id: string };
    const outcome = await callFrom(allowed.origin, mesh, request, { apiKey: TEST_KEY });
    expect(outcome).toMatchObject({ productId: request.product_id });
    expect(outcome.predictions).toBeGreaterThan(0);
  });

  it("is refused the call from a page on another origin", async () => {
    const outcome = await callFrom(other.origin, mesh, { product_id: "cross", horizon_days: 1 }, { apiKey: TEST_KEY });
    expect(outcome.predictions).toBeUndefined();
    expect(outcome.message).toMatch(/fetch/i);
  });

  it("sends the key (without it, UNAUTHENTICATED reaches the page) and ends a call at the default deadline", async () => {
    expect(await callFrom(allowed.origin, mesh, { product_id: "nokey", horizon_days: 1 })).toMatchObject({ code: 16 });
    holdCalls();
    const held = callFrom(allowed.origin, slowMesh, { product_id: "held", horizon_days: 1 }, { apiKey: TEST_KEY, defaultTimeoutMs: 300 });
    expect(await held).toMatchObject({ code: 4 });
    // The server saw the call (the deadline, not CORS, ended it).
    await whenHeld(0);
  });
});
