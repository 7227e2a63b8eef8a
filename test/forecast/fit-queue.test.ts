import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForecastService } from "../../gen/mlmesh/forecast/v1/forecast_service_pb.js";
import { forecastAreaWith } from "../../services/forecast/service.js";
import type { TaskOutcome } from "../../services/runtime/worker-pool.js";
import type { Mesh } from "../../services/runtime/mesh.js";
import { HELD_HORIZON } from "../fixtures/held-forecast-compute.js";
import { startTestMesh, TEST_KEY } from "../support/mesh.js";

// Fits go through a queue of fixed depth, and a caller that goes away takes its
// fit with it. One worker thread, one waiting place; the stand-in model
// (test/fixtures/held-forecast-compute.ts) holds a fit of HELD_HORIZON days or
// more until its thread is terminated, and logs every fit that starts. Every
// wait below is for a state (a logged fit, a metric), never for a time.

const headers = { authorization: `Bearer ${TEST_KEY}` };
const dir = mkdtempSync(join(tmpdir(), "mlmesh-fit-queue-"));
const fitLog = join(dir, "fits.log");
// Worker threads copy the environment when they start, replacements included.
process.env.MLMESH_TEST_FIT_LOG = fitLog;

const history = Array.from({ length: 60 }, (_, t) => ({
  date: new Date(Date.UTC(2024, 0, 1) + t * 86_400_000).toISOString().slice(0, 10),
  quantity: 20 + (t % 7),
}));

let mesh: Mesh;
let client: Client<typeof ForecastService>;

/** Horizons of the fits that have started, in order. */
function fitsStarted(): number[] {
  if (!existsSync(fitLog)) return [];
  return readFileSync(fitLog, "utf8").split("\n").filter(Boolean).map(Number);
}

function outcomes(outcome: TaskOutcome): number {
  return mesh.metrics.workerPoolTasks.labels("forecast", outcome).value;
}

async function gauge(metric: "workerPoolQueued" | "workerPoolRunning"): Promise<number> {
  const { values } = await mesh.metrics[metric].get();
  return values.find((v) => v.labels.pool === "forecast")?.value ?? 0;
}

/** Polls a state until it holds; gives up (failing the test) after many tries, however slow the machine. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

function forecast(productId: string, horizonDays: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}) {
  return client.forecastDemand({ productId, horizonDays, transactionData: history, cacheBypass: true }, { headers, ...options });
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  ({ mesh } = await startTestMesh([forecastAreaWith(new URL("../fixtures/held-forecast-compute.ts", import.meta.url))], {
    FORECAST_WORKERS: "1",
    FORECAST_QUEUE_DEPTH: "1",
  }));
  client = createClient(ForecastService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${mesh.ports.grpc}` }));
});

afterAll(async () => {
  await mesh?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe("the forecast fit queue", () => {
  it("refuses past its depth, drops a cancelled waiting fit and stops a cancelled running one", async () => {
    const running = new AbortController();
    const waiting = new AbortController();
    const first = failure(forecast("held-running", HELD_HORIZON + 1, { signal: running.signal }));
    await until("the first fit starts on the only worker", () => fitsStarted().includes(HELD_HORIZON + 1));
    const second = failure(forecast("held-waiting", HELD_HORIZON + 2, { signal: waiting.signal }));
    await until("the second fit waits in the queue", async () => (await gauge("workerPoolQueued")) === 1);

    // The one waiting place is taken: the next fit is refused at once, not queued (were it queued, its deadline would end it).
    const refused = await failure(forecast("refused", HELD_HORIZON + 3, { timeoutMs: 30_000 }));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toMatch(/forecast queue is full/);
    expect(outcomes("rejected")).toBe(1);

    // Cancelling the waiting call drops its fit before it runs.
    waiting.abort();
    expect((await second).code).toBe(Code.Canceled);
    await until("the waiting fit is dropped", () => outcomes("dropped") === 1);
    expect(await gauge("workerPoolQueued")).toBe(0);

    // Cancelling the running call stops its fit: the thread is recycled, and the next call gets a worker.
    running.abort();
    expect((await first).code).toBe(Code.Canceled);
    await until("the running fit is stopped", () => outcomes("stopped") === 1);
    const next = await forecast("after", 14, { timeoutMs: 30_000 });
    expect(next.predictions).toHaveLength(14);

    // The dropped and the refused fits never started; the held one never completed.
    expect(fitsStarted()).toEqual([HELD_HORIZON + 1, 14]);
    expect(outcomes("completed")).toBe(1);
  });

  it("stops the fit of a call whose deadline expires", async () => {
    const before = outcomes("stopped") + outcomes("dropped");
    const expired = await failure(forecast("held-deadline", HELD_HORIZON + 4, { timeoutMs: 3000 }));
    expect(expired.code).toBe(Code.DeadlineExceeded);
    // Stopped if it had started by then, dropped if not: either way it no longer holds the worker.
    await until("the expired call's fit is stopped or dropped", () => outcomes("stopped") + outcomes("dropped") === before + 1);
    await until("no fit runs", async () => (await gauge("workerPoolRunning")) === 0);
    const next = await forecast("after-deadline", 7, { timeoutMs: 30_000 });
    expect(next.predictions).toHaveLength(7);
  });
});
