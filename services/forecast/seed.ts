import type { Sql } from "../runtime/storage/database.js";
import { sampleProducts } from "./sample-demand.js";

/** Loads the sample inventory (products and three years of daily transactions) with COPY. */
export async function seedSampleInventory(sql: Sql, options: { products: number; seed: number; endDate: string }): Promise<number> {
  const products = sampleProducts({ count: options.products, days: 3 * 365, endDate: options.endDate, seed: options.seed });
  await sql`delete from transactions where product_id in ${sql(products.map((p) => p.productId))}`;
  await sql`insert into products ${sql(products.map((p) => ({ product_id: p.productId, name: p.name })))} on conflict (product_id) do nothing`;
  const lines: string[] = [];
  for (const p of products) for (const d of p.days) lines.push(`${p.productId}\t${d.date}\t${d.quantity}\n`);
  const writable = await sql`copy transactions (product_id, date, quantity) from stdin`.writable();
  await new Promise<void>((resolve, reject) => {
    writable.on("error", reject);
    writable.on("finish", resolve);
    writable.end(lines.join(""));
  });
  return lines.length;
}
