import type { Database } from "../runtime/storage/database.js";
import { sampleProducts } from "./sample-demand.js";

/** Loads the sample inventory (products and three years of daily transactions) with COPY. */
export async function seedSampleInventory(db: Database, options: { products: number; seed: number; endDate: string }): Promise<number> {
  const { sql } = db;
  const products = sampleProducts({ count: options.products, days: 3 * 365, endDate: options.endDate, seed: options.seed });
  await sql`delete from transactions where product_id in ${sql(products.map((p) => p.productId))}`;
  await sql`insert into products ${sql(products.map((p) => ({ product_id: p.productId, name: p.name })))} on conflict (product_id) do nothing`;
  function* lines() {
    for (const p of products) for (const d of p.days) yield `${p.productId}\t${d.date}\t${d.quantity}\n`;
  }
  return db.copyIn("transactions", ["product_id", "date", "quantity"], lines());
}
