import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import postgres from "postgres";
import { noteDatabasePort } from "../errors.js";
import { log } from "../log.js";

export type Sql = postgres.Sql;

/** A PostgreSQL connection pool, real or embedded. */
export interface Database {
  readonly sql: Sql;
  readonly kind: "postgres" | "pglite";
  /** Where it runs, without credentials. */
  readonly location: string;
  /** What another connection to the same database opens (a worker thread's own: training fits on one). */
  readonly url: string;
  ping(): Promise<boolean>;
  /**
   * Bulk-loads rows given as PostgreSQL COPY text-format lines ("a\tb\n").
   * PostgreSQL gets COPY FROM STDIN; PGlite's socket server cannot carry
   * COPY's sub-protocol, so there the lines go to PGlite's own COPY from a blob.
   */
  copyIn(table: string, columns: readonly string[], lines: Iterable<string>): Promise<number>;
  /**
   * LISTENs on a channel; resolves with the way to stop. PostgreSQL gets
   * postgres.js's listener connection (re-established after a reconnect);
   * PGlite, one backend behind its socket server, sends a notification back
   * on the connection that raised it, and the pool passes it on.
   * `onListening` runs each time the LISTEN is in place: at first, and again
   * after the listener's connection was lost and made anew (what was
   * announced in between was heard by no one).
   */
  listen(channel: string, onPayload: (payload: string) => void, onListening?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens DATABASE_URL with postgres.js, or, when none is configured, an
 * embedded PGlite under dataDir behind its socket server, so the same
 * postgres.js code runs against both and a first `make dev` needs no server.
 */
export async function openDatabase(options: { url: string | undefined; dataDir: string; max?: number }): Promise<Database> {
  if (options.url) {
    const sql = postgres(options.url, { max: options.max ?? 10, onnotice: () => undefined, connect_timeout: 5 });
    const url = new URL(options.url);
    // A refused connection to this port is the database being down (UNAVAILABLE, errors.ts); a reset one names no port.
    noteDatabasePort(Number(url.port || 5432));
    const copyIn = async (table: string, columns: readonly string[], lines: Iterable<string>) => {
      // postgres.js can lose the error of a COPY that PostgreSQL rejects after
      // the last row was sent (it reports success with nothing loaded), so the
      // rows are counted before and after, on a connection of our own.
      const conn = await sql.reserve();
      let poisoned = false;
      try {
        const [{ n: before, pid }] = await conn.unsafe<{ n: number; pid: number }[]>(
          `select count(*)::int as n, pg_backend_pid() as pid from ${table}`,
        );
        const query = conn.unsafe(`copy ${table} (${columns.join(", ")}) from stdin`);
        const writable = await query.writable();
        let count = 0;
        let batch = "";
        const failed = new Promise<never>((_, reject) => writable.once("error", reject));
        failed.catch(() => undefined);
        for (const line of lines) {
          batch += line;
          count++;
          if (batch.length > 1 << 20) {
            // Respect backpressure, so a million rows do not pile up in memory.
            if (!writable.write(batch)) await Promise.race([new Promise((r) => writable.once("drain", r)), failed]);
            batch = "";
          }
        }
        // end()'s callback also fires, with the error, when the stream fails. When PostgreSQL
        // rejected the COPY after our last row, neither happens: its backend just goes idle.
        const ended = new Promise<void>((resolve, reject) => {
          const done = (err?: Error | null) => (err ? reject(err) : resolve());
          if (batch) writable.end(batch, done);
          else writable.end(done);
        });
        let settled = false;
        ended.then(
          () => (settled = true),
          () => (settled = true),
        );
        const abandoned = (async () => {
          for (;;) {
            await new Promise((r) => setTimeout(r, 250));
            if (settled) return;
            const [row] = await sql<{ state: string }[]>`select state from pg_stat_activity where pid = ${pid}`;
            if (!settled && row?.state === "idle") {
              // postgres.js still believes this connection is copying: keep it out of the pool.
              poisoned = true;
              throw new Error(`COPY into ${table} was rejected by PostgreSQL (a row broke a rule; its log names it)`);
            }
          }
        })();
        await Promise.race([ended, failed, abandoned]);
        const [{ n: after }] = await conn.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
        if (after - before !== count) {
          throw new Error(`COPY into ${table} loaded ${after - before} of ${count} rows: PostgreSQL rejected a row (its log names it)`);
        }
        return count;
      } finally {
        if (!poisoned) conn.release();
      }
    };
    const listen = async (channel: string, onPayload: (payload: string) => void, onListening?: () => void) =>
      (await sql.listen(channel, onPayload, onListening)).unlisten;
    return wrap(sql, "postgres", `${url.hostname}:${url.port || 5432}${url.pathname}`, options.url, copyIn, listen, async () => {
      await sql.end({ timeout: 5 });
    });
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const dir = resolve(options.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 } as never);
  await server.start();
  const conn = server.getServerConn();
  log.info("no DATABASE_URL: using embedded PGlite", { dataDir: dir, socket: conn });
  // PGlite is one backend behind the socket server: a notification comes back on whichever connection
  // ran the statement that raised it, so every connection hands notifications to the listeners here.
  const listeners = new Map<string, Set<(payload: string) => void>>();
  // PGlite runs one query at a time; a small pool keeps its queue short.
  const socketUrl = `postgres://postgres@${conn}/postgres`;
  const sql = postgres(socketUrl, {
    max: options.max ?? 4,
    onnotice: () => undefined,
    onnotify: (channel: string, payload: string) =>
      listeners.get(channel)?.forEach((fn) => {
        fn(payload);
      }),
    ssl: false,
  } as postgres.Options<never>);
  const copyIn = async (table: string, columns: readonly string[], lines: Iterable<string>) => {
    const chunks: string[] = [];
    let count = 0;
    for (const line of lines) {
      chunks.push(line);
      count++;
    }
    await db.query(`copy ${table} (${columns.join(", ")}) from '/dev/blob'`, [], { blob: new Blob(chunks) });
    return count;
  };
  const listen = async (channel: string, onPayload: (payload: string) => void, onListening?: () => void) => {
    let set = listeners.get(channel);
    if (!set) {
      listeners.set(channel, (set = new Set()));
      await sql.unsafe(`listen "${channel.replace(/"/g, '""')}"`);
    }
    set.add(onPayload);
    onListening?.();
    return async () => void set.delete(onPayload);
  };
  return wrap(sql, "pglite", dir, socketUrl, copyIn, listen, async () => {
    await sql.end({ timeout: 5 });
    await server.stop();
    await db.close();
  });
}

function wrap(
  sql: Sql,
  kind: Database["kind"],
  location: string,
  url: string,
  copyIn: Database["copyIn"],
  listen: Database["listen"],
  close: () => Promise<void>,
): Database {
  return {
    sql,
    kind,
    location,
    url,
    copyIn,
    listen,
    async ping() {
      try {
        await sql`select 1`;
        return true;
      } catch {
        return false;
      }
    },
    close,
  };
}
