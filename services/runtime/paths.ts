import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project root (where package.json is), found by walking up from this
 * module so that the same code works from services/ under tsx and from dist/.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "services"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`project root not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
