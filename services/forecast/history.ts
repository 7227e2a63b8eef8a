import type { Sql } from "../runtime/storage/database.js";

export interface DailyQuantity {
  date: string;
  quantity: number;
}

/** A product's daily demand from the transactions table, one row per day with demand. */
export async function loadHistory(sql: Sql, productId: string): Promise<DailyQuantity[]> {
  const rows = await sql<{ date: string; quantity: number }[]>`
    select to_char(date, 'YYYY-MM-DD') as date, sum(quantity)::float8 as quantity
    from transactions where product_id = ${productId}
    group by date order by date`;
  return rows.map((r) => ({ date: r.date, quantity: Number(r.quantity) }));
}
