import postgres from "postgres";

/** Creates the shared test database once per run; every test file migrates it (idempotent, locked). */
export default async function setup(): Promise<void> {
  const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => undefined });
  try {
    const exists = await admin`select 1 from pg_database where datname = 'mlmesh_test'`;
    if (exists.length === 0) await admin.unsafe("create database mlmesh_test");
  } catch (err) {
    if (!String(err).includes("already exists")) throw err;
  } finally {
    await admin.end();
  }
}
