import { describe, expect, it } from "vitest";
import { travellerVector } from "../../services/match/features/traveller-vector.js";
import { contentWords } from "../../services/match/prompt/read.js";
import { seedTravellers } from "../../services/match/seed.js";
import { matchArea } from "../../services/match/service.js";
import { loadWordVectors } from "../../services/match/text/word-vectors.js";
import { openDatabase } from "../../services/runtime/storage/database.js";
import { migrate } from "../../services/runtime/storage/migrations.js";
import { startTestMesh } from "../support/mesh.js";
import { testScope } from "../support/scope.js";

describe("traveller vectors", () => {
  it("are written by the seed, filled in at start where missing, and follow a profile changed by any writer", async () => {
    const scope = await testScope("vectors");
    const db = await openDatabase({ url: scope.databaseUrl, dataDir: "" });
    await migrate(db.sql);
    await seedTravellers(db, { count: 300, seed: 12 });
    const [a, b] = await db.sql<{ id: string }[]>`select id::text from travellers order by id limit 2`;
    const vectors = await loadWordVectors();
    const expected = async (id: string) => {
      const [r] = await db.sql<{ interests: string[]; bio: string; prompt_answers: string[] }[]>`
        select interests, bio, prompt_answers from travellers where id = ${id}`;
      return Buffer.from(
        travellerVector({ interests: r.interests, bio: r.bio, promptAnswers: r.prompt_answers }, contentWords, vectors),
      ).toString("hex");
    };
    const stored = async (id: string) =>
      (await db.sql<{ e: Buffer | null }[]>`select text_embedding as e from travellers where id = ${id}`)[0].e?.toString("hex") ?? null;
    expect(await stored(a.id)).toBe(await expected(a.id));
    // A traveller without a vector (an insert: not announced) gets one when a server starts.
    await db.sql`update travellers set text_embedding = null where id = ${b.id}`;
    const { mesh } = await startTestMesh([matchArea], scope.env);
    try {
      await expect.poll(() => stored(b.id), { timeout: 20_000 }).toBe(await expected(b.id));
      // Another writer changes a profile: the announcement has the vector recomputed.
      const before = await stored(a.id);
      await db.sql`update travellers set interests = '{diving}', bio = 'Scuba and freediving on every coast.' where id = ${a.id}`;
      const after = await expected(a.id);
      expect(after).not.toBe(before);
      await expect.poll(() => stored(a.id), { timeout: 20_000 }).toBe(after);
    } finally {
      await mesh.shutdown();
      await db.close();
    }
  }, 60_000);
});
