/**
 * Redis pub/sub channel on which promotions and rollbacks are announced, as
 * "<model>:<version>". `redisPrefix` is MLMESH_REDIS_PREFIX (MeshConfig.redisPrefix):
 * deployments sharing one Redis hear only their own promotions.
 */
export function modelsChannel(redisPrefix: string): string {
  return `${redisPrefix}:models`;
}
