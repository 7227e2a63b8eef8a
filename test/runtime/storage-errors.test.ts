import { type AddressInfo, createServer } from "node:net";
import { Redis } from "ioredis";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { clientSafeMessage, MeshError, toMeshError, unavailableStore } from "../../services/runtime/errors.js";
import { Status } from "../../services/runtime/status.js";
import { openDatabase } from "../../services/runtime/storage/database.js";

// Which thrown values mean "a backing store is down" (UNAVAILABLE: retry) and
// which are faults (INTERNAL), decided in one place (errors.ts); and what of
// an error may be stored where clients read it. The outage errors are real
// ones, from clients pointed at a port nothing listens on (1).

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("storage errors", () => {
  it("a refused PostgreSQL connection is the database being unavailable", async () => {
    const db = await openDatabase({ url: "postgres://postgres@127.0.0.1:1/none", dataDir: "" });
    try {
      const err = await rejection(db.sql`select 1`);
      expect((err as { code?: string }).code).toBe("ECONNREFUSED");
      const mesh = toMeshError(err);
      expect(mesh.code).toBe(Status.UNAVAILABLE);
      expect(mesh.message).toBe("database unavailable: retry later");
    } finally {
      await db.close();
    }
  });

  it("a socket error from elsewhere is still UNAVAILABLE, without naming a store", async () => {
    const sql = postgres("postgres://postgres@127.0.0.1:2/none", { max: 1, connect_timeout: 5 });
    try {
      const err = await rejection(sql`select 1`);
      expect(unavailableStore(err)).toBe("storage");
      expect(toMeshError(err).code).toBe(Status.UNAVAILABLE);
    } finally {
      await sql.end();
    }
  });

  it("a PostgreSQL connection reset after it was opened (the server going away) is the database being unavailable", async () => {
    // A server that accepts the connection and resets it at the first message: the socket error is
    // `read ECONNRESET`, which, unlike a refused connect, names no port.
    const server = createServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const sql = postgres({ host: "127.0.0.1", port, max: 1, connect_timeout: 5 });
    try {
      const err = await rejection(sql`select 1`);
      expect(err).toMatchObject({ code: "ECONNRESET" });
      expect((err as { port?: number }).port).toBeUndefined();
      expect(unavailableStore(err)).toBe("database");
      expect(toMeshError(err)).toMatchObject({ code: Status.UNAVAILABLE, message: "database unavailable: retry later" });
    } finally {
      await sql.end({ timeout: 0 });
      server.close();
    }
  });

  it("ioredis failures are Redis being unavailable: no offline queue, retries spent, connection closed", async () => {
    const offline = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const retrying = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, retryStrategy: () => 10 });
    const closed = new Redis("redis://127.0.0.1:1", { lazyConnect: true });
    for (const r of [offline, retrying, closed]) r.on("error", () => undefined);
    try {
      closed.disconnect();
      const errors = await Promise.all([rejection(offline.get("k")), rejection(retrying.get("k")), rejection(closed.get("k"))]);
      expect(errors.map((e) => `${(e as Error).name}: ${(e as Error).message}`)).toEqual([
        expect.stringMatching(/enableOfflineQueue/),
        expect.stringMatching(/MaxRetriesPerRequestError/),
        expect.stringMatching(/Connection is closed/),
      ]);
      for (const err of errors) {
        expect(unavailableStore(err)).toBe("redis");
        expect(toMeshError(err)).toMatchObject({ code: Status.UNAVAILABLE, message: "Redis unavailable: retry later" });
      }
    } finally {
      for (const r of [offline, retrying, closed]) r.disconnect();
    }
  });

  it.each([
    [
      "postgres.js: connection closed",
      Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" }),
      "database",
    ],
    [
      "postgres.js: connect timeout",
      Object.assign(new Error("write CONNECT_TIMEOUT 10.0.0.1:5432"), { code: "CONNECT_TIMEOUT" }),
      "database",
    ],
    [
      "PostgreSQL: admin shutdown",
      Object.assign(new Error("terminating connection due to administrator command"), { name: "PostgresError", code: "57P01" }),
      "database",
    ],
    [
      "PostgreSQL: starting up",
      Object.assign(new Error("the database system is starting up"), { name: "PostgresError", code: "57P03" }),
      "database",
    ],
    [
      "PostgreSQL: connection failure",
      Object.assign(new Error("connection failure"), { name: "PostgresError", code: "08006" }),
      "database",
    ],
    ["Redis: loading", Object.assign(new Error("LOADING Redis is loading the dataset in memory"), { name: "ReplyError" }), "redis"],
    ["a cause", new Error("could not load profiles", { cause: Object.assign(new Error("x"), { code: "CONNECTION_ENDED" }) }), "database"],
    [
      "an AggregateError of refused connects",
      new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:6"), { code: "ECONNREFUSED" })], "connect failed"),
      "storage",
    ],
  ])("%s is UNAVAILABLE", (_what, err, store) => {
    expect(unavailableStore(err)).toBe(store);
    expect(toMeshError(err).code).toBe(Status.UNAVAILABLE);
  });

  it.each([
    ["a query error", Object.assign(new Error('relation "jobs" does not exist'), { name: "PostgresError", code: "42P01" })],
    [
      "a constraint violation",
      Object.assign(new Error("duplicate key value violates unique constraint"), { name: "PostgresError", code: "23505" }),
    ],
    ["a bug", new TypeError("Cannot read properties of undefined (reading 'x')")],
    [
      "a Redis reply error",
      Object.assign(new Error("WRONGTYPE Operation against a key holding the wrong kind of value"), { name: "ReplyError" }),
    ],
  ])("%s stays INTERNAL", (_what, err) => {
    expect(unavailableStore(err)).toBeUndefined();
    expect(toMeshError(err)).toMatchObject({ code: Status.INTERNAL, message: "internal error" });
  });
});

describe("client-safe messages", () => {
  const fallback = "FALLBACK";
  it.each([
    ["a MeshError", new MeshError(Status.NOT_FOUND, "job 1 not found"), "job 1 not found"],
    ["a plain Error of our own", new Error("planned failure 3"), "planned failure 3"],
    ["the first line only", new Error("no model yet\nsee the training log"), "no model yet"],
    [
      "an outage",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "CONNECTION_CLOSED" }),
      "database unavailable: retry later",
    ],
    [
      "a PostgreSQL error",
      Object.assign(new Error('relation "jobs" does not exist'), { name: "PostgresError", code: "42P01", routine: "parserOpenTable" }),
      fallback,
    ],
    ["SQL text", new Error("query failed: select * from jobs where id = $1"), fallback],
    ["a path", new Error("cannot open /srv/mlmesh/models/match.onnx"), fallback],
    ["a Windows path", new Error("cannot open C:\\models\\match.onnx"), fallback],
    ["a file URL", new Error("cannot import file:///app/services/x.js"), fallback],
    ["a stack frame", new Error("failed\n    at run (/app/services/jobs/worker.js:10:5)"), fallback],
    ["a source position", new Error("assertion failed in worker.ts:120"), fallback],
    ["a system error", Object.assign(new Error("EACCES: permission denied"), { code: "EACCES", syscall: "open" }), fallback],
    ["a TypeError", new TypeError("x is not a function"), fallback],
    ["a string", "oops", fallback],
  ])("for %s", (_what, err, expected) => {
    expect(clientSafeMessage(err, fallback)).toBe(expected);
  });
});
