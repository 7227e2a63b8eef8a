import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { promisify } from "node:util";
import postgres from "postgres";
import { prepareBenchDatabase } from "./bench-data.js";
import { percentile } from "./percentile.js";
import { metricValue, spawnServe, untilProfileStoreFilled } from "./spawn-serve.js";

/**
 * How fast a replica starts: `node dist/cli/main.js serve` against the bench
 * database, from spawn to SERVING on grpc.health.v1 Health/Check, several
 * times; beside it, spawning the same command line to print its help (Node
 * and the modules alone). Then, after readiness, the profile store's fill:
 * how long, and the memory it took (process RSS, ArrayBuffer memory, and the
 * store's own count of its typed arrays), per million travellers.
 *
 *   node dist/bench/startup.js --markdown build/bench/startup.md [--database-url URL] [--runs N]
 */
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const markdown = arg("--markdown");
const runs = Number(arg("--runs") ?? 3);
const url = arg("--database-url") ?? (await prepareBenchDatabase(Number(process.env.BENCH_TRAVELLERS ?? 1_000_000)));

const sql = postgres(url, { max: 1, onnotice: () => undefined });
const [{ travellers }] = await sql<{ travellers: number }[]>`select count(*)::int as travellers from travellers`;
const promoted = await sql<{ model: string; version: number }[]>`
  select model, max(version)::int as version from model_versions where promoted_at is not null group by model order by model`;
await sql.end();

const cli = new URL("../cli/main.js", import.meta.url).pathname;
const helpMs: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await promisify(execFile)(process.execPath, [cli, "--help"]);
  helpMs.push(performance.now() - t);
}

const servingMs: number[] = [];
const cpuAtServing: number[] = [];
let fill:
  | { ms: number; rssBefore: number; rssAfter: number; buffersBefore: number; buffersAfter: number; storeBytes: number; held: number }
  | undefined;
for (let i = 0; i < runs; i++) {
  const serve = await spawnServe(url, { MLMESH_REDIS_PREFIX: `bench-startup-${process.pid}` });
  try {
    servingMs.push(serve.servingMs);
    cpuAtServing.push(await metricValue(serve.adminPort, "process_cpu_seconds_total"));
    // A build without the profile store (a baseline run of an older commit) has no such gauge.
    const hasStore = (await (await fetch(`http://127.0.0.1:${serve.adminPort}/metrics`)).text()).includes(
      "mlmesh_match_profile_store_filled",
    );
    if (i === 0 && hasStore) {
      const rssBefore = await metricValue(serve.adminPort, "process_resident_memory_bytes");
      const buffersBefore = await metricValue(serve.adminPort, "nodejs_external_memory_bytes");
      const ms = await untilProfileStoreFilled(serve.adminPort);
      fill = {
        ms,
        rssBefore,
        buffersBefore,
        rssAfter: await metricValue(serve.adminPort, "process_resident_memory_bytes"),
        buffersAfter: await metricValue(serve.adminPort, "nodejs_external_memory_bytes"),
        storeBytes: await metricValue(serve.adminPort, "mlmesh_match_profile_store_bytes"),
        held: await metricValue(serve.adminPort, "mlmesh_match_profile_store_travellers"),
      };
    }
  } finally {
    await serve.stop();
  }
}
for (const a of [helpMs, servingMs, cpuAtServing]) a.sort((x, y) => x - y);

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const perMillion = (b: number) => (((b / Math.max(1, travellers)) * 1e6) / 2 ** 20).toFixed(0);
const md = `## Replica start-up

Measured by \`make bench\` (\`node dist/bench/startup.js\`): \`node dist/cli/main.js serve\` spawned against the bench
database (**${travellers.toLocaleString("en")} travellers**; promoted models: ${promoted.map((p) => `${p.model} v${p.version}`).join(", ") || "none"}),
timed from spawn to the first SERVING answer of grpc.health.v1 Health/Check (asked every 20 ms), ${runs} starts.
Beside it, the same command line printing its help: Node and the modules alone.

| | starts | median s | slowest s | target |
|---|---|---|---|---|
| \`mlmesh --help\` (spawn to exit) | ${helpMs.length} | ${(percentile(helpMs, 0.5) / 1000).toFixed(2)} | ${(helpMs.at(-1)! / 1000).toFixed(2)} | |
| \`mlmesh serve\`, spawn to SERVING | ${servingMs.length} | ${(percentile(servingMs, 0.5) / 1000).toFixed(2)} | ${(servingMs.at(-1)! / 1000).toFixed(2)} | ≤ 5 s |
| its CPU time by then (process_cpu_seconds_total, user + system, both cores) | ${cpuAtServing.length} | ${percentile(cpuAtServing, 0.5).toFixed(2)} | ${cpuAtServing.at(-1)!.toFixed(2)} | |

CPU time is what a busy machine does not stretch: on a loaded machine the wall-clock figures grow with the load.

${
  fill
    ? `After SERVING, the match area fills its profile store (every traveller's scoring features in process; calls are
answered meanwhile from Redis and PostgreSQL as before): **${(fill.ms / 1000).toFixed(1)} s** for ${fill.held.toLocaleString("en")} travellers.
Memory it took, measured in the first start (from /metrics at SERVING and once filled; no forced garbage collection):

| | at SERVING MiB | filled MiB | growth MiB | per million travellers MiB |
|---|---|---|---|---|
| process RSS (process_resident_memory_bytes) | ${mib(fill.rssBefore)} | ${mib(fill.rssAfter)} | ${mib(fill.rssAfter - fill.rssBefore)} | ${perMillion(fill.rssAfter - fill.rssBefore)} |
| ArrayBuffer memory (nodejs_external_memory_bytes) | ${mib(fill.buffersBefore)} | ${mib(fill.buffersAfter)} | ${mib(fill.buffersAfter - fill.buffersBefore)} | ${perMillion(fill.buffersAfter - fill.buffersBefore)} |
| the store's typed arrays (mlmesh_match_profile_store_bytes, by capacity) | 0 | ${mib(fill.storeBytes)} | ${mib(fill.storeBytes)} | ${perMillion(fill.storeBytes)} |
`
    : ""
}`;
if (markdown) writeFileSync(markdown, md);
process.stdout.write(md);
