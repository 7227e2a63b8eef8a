import { Random } from "../numeric/random.js";

/**
 * Synthetic daily demand for the sample inventory that `make dev` loads and the
 * benchmark forecasts: trend, weekly and yearly seasonality, noise, and some
 * intermittent products. Deterministic for a seed.
 */
export interface SampleProduct {
  productId: string;
  name: string;
  days: { date: string; quantity: number }[];
}

export function sampleProducts(options: { count: number; days: number; endDate: string; seed: number }): SampleProduct[] {
  const rng = new Random(options.seed);
  const random = () => rng.next();
  const end = Date.parse(`${options.endDate}T00:00:00Z`);
  const products: SampleProduct[] = [];
  for (let p = 0; p < options.count; p++) {
    const level = 5 + random() * 60;
    const trendPerDay = (random() - 0.3) * level * 0.0015;
    const weekly = Array.from({ length: 7 }, () => 1 + (random() - 0.5) * 0.6);
    const yearlyAmplitude = random() * 0.35;
    const yearlyPhase = random() * 2 * Math.PI;
    const intermittent = random() < 0.2;
    const noise = 0.1 + random() * 0.2;
    const days: SampleProduct["days"] = [];
    for (let d = options.days - 1; d >= 0; d--) {
      const t = end - d * 86_400_000;
      const date = new Date(t);
      const dayIndex = options.days - 1 - d;
      const base =
        (level + trendPerDay * dayIndex) *
        weekly[date.getUTCDay()] *
        (1 + yearlyAmplitude * Math.sin((2 * Math.PI * dayIndex) / 365.25 + yearlyPhase));
      let quantity = Math.max(0, base * (1 + noise * rng.gaussian()));
      if (intermittent) quantity = random() < 0.35 ? Math.round(quantity * 2.5) : 0;
      days.push({ date: date.toISOString().slice(0, 10), quantity: Math.round(quantity) });
    }
    const id = String(p + 1).padStart(4, "0");
    products.push({ productId: `sku-${id}`, name: `Sample product ${id}${intermittent ? " (intermittent)" : ""}`, days });
  }
  return products;
}
