import { createDatabase } from "./scope.js";

/**
 * Database `name` on the run's PostgreSQL, dropped and created afresh.
 * @deprecated use testScope() from test/support/scope.ts: it names the
 * database after the test file and gives the file its own Redis prefix too.
 */
export function freshDatabase(name: string): Promise<string> {
  return createDatabase(name);
}
