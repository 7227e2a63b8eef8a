// Runs on a worker thread of its own (runtime/worker-pool.ts runOnThread): reading the
// interactions and half a minute of ALS at 50,000 travellers must leave the event loop free,
// for a job worker's lock renewals and a server's calls. The thread opens its own connection.
import postgres from "postgres";
import { fitRecommendFromDatabase, type FittedRecommender, type RecommendHyperparameters } from "./training.js";

export async function fitRecommend(
  databaseUrl: string,
  parameters: Partial<RecommendHyperparameters>,
  progress?: (percent: number, message: string) => void,
): Promise<FittedRecommender> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
  try {
    return await fitRecommendFromDatabase(sql, { progress, parameters });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
