/** Redis pub/sub channel on which promotions and rollbacks are announced, as "<model>:<version>". */
export const MODELS_CHANNEL = "mlmesh:models";
