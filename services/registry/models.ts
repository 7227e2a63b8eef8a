/**
 * The models the registry holds, by the one name each is stored, announced,
 * split (MLMESH_MODEL_AB_WEIGHTS) and labelled in metrics under.
 */
export const MODELS = { match: "match", recommend: "recommend", notify: "notify" } as const;

export type ModelName = (typeof MODELS)[keyof typeof MODELS];

/** Whether a name (a command's argument, say) is one the registry holds. */
export function isModelName(name: string | undefined): name is ModelName {
  return (Object.values(MODELS) as string[]).includes(name ?? "");
}
