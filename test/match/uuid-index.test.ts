import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { UuidIndex } from "../../services/match/store/uuid-index.js";

describe("the uuid index", () => {
  it("finds every id it handed a slot, tells ids apart by every digit, and refuses what is not a lower-case uuid", () => {
    const index = new UuidIndex();
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    const slots = ids.map((id) => index.slotFor(id));
    expect(new Set(slots).size).toBe(ids.length);
    expect(ids.map((id) => index.find(id))).toEqual(slots);
    // One digit changed anywhere is another id.
    const base = "0123abcd-4567-89ef-0123-456789abcdef";
    const first = index.slotFor(base);
    for (let i = 0; i < 36; i++) {
      if (base[i] === "-") continue;
      const other = base.slice(0, i) + (base[i] === "f" ? "e" : "f") + base.slice(i + 1);
      expect(index.find(other)).toBe(-1);
      expect(index.slotFor(other)).not.toBe(first);
    }
    expect(index.find(base)).toBe(first);
    // Many at once: what find gives each, whatever the batch's size.
    const asked = [...ids, base, base.toUpperCase(), randomUUID(), "", ids[0]];
    for (const many of [asked, asked.slice(0, 7), asked.slice(-3)]) {
      const out = new Int32Array(many.length);
      index.findMany(many, out);
      expect(Array.from(out)).toEqual(many.map((id) => index.find(id)));
    }
    for (const bad of [base.toUpperCase(), base.replace(/-/g, ""), `${base}0`, base.replace("-", "_"), base.replace("a", "g"), ""]) {
      expect(index.find(bad)).toBe(-1);
      expect(index.slotFor(bad)).toBe(-1);
    }
  });
});
