import { subscribe, type Subscription } from "../runtime/storage/subscriber.js";

/** Whatever can announce on Redis: an ioredis client, or a job's run context. */
export interface Publisher {
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * Redis pub/sub channel on which promotions and rollbacks are announced.
 * `redisPrefix` is MLMESH_REDIS_PREFIX (MeshConfig.redisPrefix): deployments
 * sharing one Redis hear only their own promotions.
 */
export function modelsChannel(redisPrefix: string): string {
  return `${redisPrefix}:models`;
}

/**
 * Tells every server that a model's serving version changed: a promotion, or
 * a rollback (version 0 when none is left and servers fall back to their
 * baseline). The message is "<model>:<version>"; servers reload the serving
 * version from the registry, so a lost message only delays them until the next.
 */
export async function announcePromotion(publisher: Publisher, redisPrefix: string, model: string, version: number): Promise<void> {
  await publisher.publish(modelsChannel(redisPrefix), `${model}:${version}`);
}

/** The model an announcement names, or undefined for a message that is not one. */
function announcedModel(message: string): string | undefined {
  const colon = message.indexOf(":");
  return colon < 0 ? undefined : message.slice(0, colon);
}

/**
 * Calls `onChange` whenever a promotion or rollback of `model` is announced,
 * and when the subscription comes back after Redis was away: nothing arrives
 * meanwhile (the log says what is missed), so a promotion made then is only
 * found by reading the registry again.
 */
export function onPromotion(
  options: { redisUrl: string; redisPrefix: string; model: string; missed: string },
  onChange: () => void,
): Subscription {
  return subscribe(
    options.redisUrl,
    [modelsChannel(options.redisPrefix)],
    (_channel, message) => {
      if (announcedModel(message) === options.model) onChange();
    },
    options.missed,
    onChange,
  );
}
