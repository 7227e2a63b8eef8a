// Runs on a worker thread of its own (runtime/worker-pool.ts runOnThread): reading a million
// travellers and fitting takes many seconds, and the job worker's event loop must stay free to
// renew the job's lock meanwhile. The thread opens its own connection to the same database.
import postgres from "postgres";
import { fitFromDatabase, type FittedMatch, type MatchHyperparameters } from "./training.js";

export async function fitMatch(
  databaseUrl: string,
  parameters?: Partial<MatchHyperparameters>,
  progress?: (percent: number, message: string) => void,
): Promise<FittedMatch> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
  try {
    return await fitFromDatabase(sql, { progress, parameters });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
