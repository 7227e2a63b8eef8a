import { generatePopulation } from "../travellers/index.js";
import { copyArray, copyField } from "../runtime/storage/copy-format.js";
import type { Database } from "../runtime/storage/database.js";
import { buildCatalogue } from "./catalogue.js";
import { generateDestinationInteractions } from "./interactions.js";
import { monthsOf } from "./seasons.js";

/**
 * The destination catalogue and a year of viewing, saving and booking by the
 * first travellers of the population (the same ids as the match seed).
 */
export async function seedDestinations(
  db: Database,
  options: { destinations: number; users: number; seed: number },
): Promise<{ destinations: number; interactions: number }> {
  await db.sql`truncate destinations, destination_interactions`;
  const catalogue = buildCatalogue(options.destinations);
  const destinations = await db.copyIn(
    "destinations",
    ["id", "name", "country", "latitude", "longitude", "population", "tags", "cost_level", "good_months"],
    catalogue.map(
      (d) =>
        `${[
          copyField(d.id),
          copyField(d.name),
          copyField(d.country),
          d.latitude,
          d.longitude,
          Math.round(d.population),
          copyArray(d.tags),
          d.costLevel,
          `{${monthsOf(d.goodMonths).join(",")}}`,
        ].join("\t")}\n`,
    ),
  );
  const members = [...generatePopulation({ count: options.users, seed: options.seed })];
  function* lines(): Generator<string> {
    for (const e of generateDestinationInteractions(members, catalogue, { seed: options.seed })) {
      yield `${e.userId}\t${copyField(catalogue[e.destination].id)}\t${e.kind}\t${new Date(e.day * 86_400_000).toISOString()}\n`;
    }
  }
  const interactions = await db.copyIn("destination_interactions", ["user_id", "destination_id", "kind", "occurred_at"], lines());
  await db.sql`analyze destination_interactions`;
  return { destinations, interactions };
}
