import type { Mesh } from "../services/runtime/mesh.js";
import type { MethodCase } from "./grpc-methods.js";

/** The methods each built service adds to the benchmark. */
export async function benchCases(_mesh: Mesh): Promise<MethodCase[]> {
  return [];
}
