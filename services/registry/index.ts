/**
 * The model registry, as the areas use it: versions with their artefacts and
 * metrics, the models' names, promotions and rollbacks announced to every
 * server, and the slot a server answers from, swapped when one is announced.
 */
export { isModelName, MODELS, type ModelName } from "./models.js";
export { announcePromotion, modelsChannel, onPromotion, type Publisher } from "./promotions.js";
export { ModelRegistry, type ModelVersion, type PromotionOutcome } from "./registry.js";
export { rollbackModel } from "./rollback.js";
export { ServingSlot, type ServedModel, type ServingSlotOptions } from "./serving-slot.js";
