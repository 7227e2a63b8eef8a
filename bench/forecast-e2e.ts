import { writeFileSync } from "node:fs";
import http from "node:http";
import postgres from "postgres";
import { forecast } from "../services/forecast/compute.js";
import { prophetForecast } from "../services/forecast/eval/prophet-wasm.js";
import { Random } from "../services/numeric/random.js";
import { sampleProducts } from "../services/forecast/sample-demand.js";
import { forecastArea } from "../services/forecast/service.js";
import { startMesh } from "../services/runtime/mesh.js";
import { BENCH_API_KEY, benchConfig } from "./bench-config.js";
import { describeMachine } from "./machine.js";
import { percentile } from "./percentile.js";

/**
 * ForecastDemand end to end against Prophet (WASM) on the same series, in the
 * same run: three years of daily history inline, horizon 90, `cache_bypass`
 * (a fit every call), sent one at a time as JSON over REST (the gateway port)
 * and over Connect (HTTP/1.1, application/json), from this process to the
 * mesh it starts. Each round times one Prophet fit and forecast of the same
 * series (eval/prophet-wasm.ts, what `make eval-forecast` compares with) and
 * one call of each transport, in an order shuffled afresh each round
 * (seeded), so a busy machine, and the garbage the way before leaves, slow
 * all of them alike. (A rotating order keeps each way's predecessor: REST
 * always ran right after Prophet's WASM fit.) The answers of both transports are checked
 * against the model run in process: the same predictions.
 *
 * Flags: `--markdown FILE`; BENCH_FORECAST_ROUNDS (default 100: a median of fewer moved by a tenth between runs on this machine).
 */
const markdown = process.argv.includes("--markdown") ? process.argv[process.argv.indexOf("--markdown") + 1] : undefined;
const ROUNDS = Number(process.env.BENCH_FORECAST_ROUNDS ?? 100);
const WARMUP = 5;
const HORIZON = 90;

const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => undefined });
if (!(await admin`select 1 from pg_database where datname = 'mlmesh_bench_forecast'`).length)
  await admin.unsafe("create database mlmesh_bench_forecast");
await admin.end();
const config = benchConfig({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/mlmesh_bench_forecast", LOG_LEVEL: "warn" });
const mesh = await startMesh(config, { areas: [forecastArea] });

// The series the gRPC table's ForecastDemand rows use.
const [product] = sampleProducts({ count: 1, days: 3 * 365, endDate: "2025-06-30", seed: 7 });
const body = JSON.stringify({ product_id: "bench-sku", horizon_days: HORIZON, transaction_data: product.days, cache_bypass: true });
// Sent with its length, as curl and fetch send a body they hold whole (not chunked).
const bodyBytes = String(Buffer.byteLength(body));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One POST on a kept-alive connection; the answer's text. */
function post(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": bodyBytes, authorization: `Bearer ${BENCH_API_KEY}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface Way {
  name: string;
  run: () => Promise<unknown>;
  ms: number[];
}
const yhats = (text: string, key: "yhat") => (JSON.parse(text) as { predictions: Record<string, number>[] }).predictions.map((p) => p[key]);
const ways: Way[] = [
  {
    name: "Prophet (augurs, Stan via WASM): fit + forecast in process",
    run: async () => prophetForecast(product.days, HORIZON, []),
    ms: [],
  },
  {
    name: "ForecastDemand over REST (POST /forecast/demand, JSON)",
    run: () => post(mesh.ports.gateway, "/forecast/demand", {}),
    ms: [],
  },
  {
    name: "ForecastDemand over Connect (HTTP/1.1, JSON)",
    run: () => post(mesh.ports.connect, "/mlmesh.forecast.v1.ForecastService/ForecastDemand", { "connect-protocol-version": "1" }),
    ms: [],
  },
  {
    name: "ml-mesh model in process (no transport, no worker thread)",
    run: async () => forecast(product.days, { horizonDays: HORIZON, intervalLevel: 0.95, holidays: { calendar: undefined, dates: [] } }),
    ms: [],
  },
];
const [prophet, rest, connect, inProcess] = ways;

try {
  // Same answers: both transports carry the model's own predictions.
  const expected = (inProcess.run as () => Promise<ReturnType<typeof forecast>>)().then((f) => f.predictions.map((p) => p.value));
  const [want, viaRest, viaConnect] = await Promise.all([expected, rest.run() as Promise<string>, connect.run() as Promise<string>]);
  for (const [name, text] of [
    ["REST", viaRest],
    ["Connect", viaConnect],
  ] as const) {
    const got = yhats(text, "yhat");
    if (got.length !== want.length || got.some((v, i) => v !== want[i]))
      throw new Error(`${name} answered other predictions than the model in process`);
  }
  for (let i = 0; i < WARMUP; i++) for (const w of ways) await w.run();
  const random = new Random(20261203);
  for (let r = 0; r < ROUNDS; r++) {
    for (const w of shuffled(ways, random)) {
      const t = performance.now();
      await w.run();
      w.ms.push(performance.now() - t);
    }
  }
} finally {
  agent.destroy();
  await mesh.shutdown();
}

/** A Fisher-Yates shuffle of a copy. */
function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const stats = (w: Way) => {
  const sorted = [...w.ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) };
};
const base = stats(prophet);
const rows = ways.map((w) => {
  const s = stats(w);
  const ratio = w === prophet ? "—" : `${(base.p50 / s.p50).toFixed(1)}×`;
  return `| ${w.name} | ${w.ms.length} | ${s.p50.toFixed(1)} | ${s.p90.toFixed(1)} | ${ratio} |`;
});
const verdict = [rest, connect].map((w) => `${w === rest ? "REST" : "Connect JSON"} ${(base.p50 / stats(w).p50).toFixed(1)}×`).join(", ");
const text = `## ForecastDemand end to end against Prophet (WASM), same series, same run

\`node dist/bench/forecast-e2e.js\` (part of \`make bench\`) on ${describeMachine()}. Three years of daily history
(${product.days.length} days, the series of the gRPC table's ForecastDemand rows) inline as JSON, horizon ${HORIZON}, \`cache_bypass\`
(a fit every call), one call at a time from the benchmark process to the mesh it starts (forecast area only, PostgreSQL on
loopback), on a kept-alive HTTP/1.1 connection; each figure is the client's wall time, answer read. Prophet fits and forecasts
the same series in the same process (1,000 uncertainty samples, as \`make eval-forecast\` runs it). ${ROUNDS} rounds after ${WARMUP}
of warm-up; each round runs the four once, in an order shuffled afresh each round (seeded), so none always follows Prophet's fit. Both transports were checked to answer the in-process
model's predictions.

| what | runs | median ms | p90 ms | Prophet median / median |
|---|---|---|---|---|
${rows.join("\n")}

End to end against Prophet (medians): ${verdict} (goal: at least 10×).
`;
process.stdout.write(text);
if (markdown) writeFileSync(markdown, text);
