import { toJson, type JsonObject } from "@bufbuild/protobuf";
import {
  ForecastTrainingParametersSchema,
  MatchTrainingParametersSchema,
  NotifyTrainingParametersSchema,
  RecommendTrainingParametersSchema,
  type SubmitTrainingJobRequest,
} from "../../gen/mlmesh/jobs/v1/job_queue_service_pb.js";

type Violation = { field: string; rule: string; message: string };

const SCHEMAS = {
  match: MatchTrainingParametersSchema,
  recommend: RecommendTrainingParametersSchema,
  notify: NotifyTrainingParametersSchema,
  forecast: ForecastTrainingParametersSchema,
} as const;

/**
 * A training's parameters as the job stores them (by snake_case name, the
 * form the older `parameters` Struct takes): the typed `hyperparameters` when
 * set (their bounds already checked by the contract's rules), else the
 * Struct. Both at once, or typed ones for another model, are refused.
 */
export function trainingParameters(
  kind: string,
  req: Pick<SubmitTrainingJobRequest, "hyperparameters" | "parameters">,
): { parameters: JsonObject } | { violation: Violation } {
  const typed = req.hyperparameters;
  if (typed.case === undefined) return { parameters: req.parameters ?? {} };
  if (typed.case !== kind)
    return {
      violation: {
        field: typed.case,
        rule: "hyperparameters.model",
        message: `are for model '${typed.case}', but the job trains '${kind}'`,
      },
    };
  if (Object.keys(req.parameters ?? {}).length > 0)
    return {
      violation: { field: "parameters", rule: "hyperparameters.exclusive", message: `give either parameters or ${typed.case}, not both` },
    };
  // Unset optional fields are left out, so the training takes its defaults for them.
  const json = toJson(SCHEMAS[typed.case], typed.value as never, { useProtoFieldName: true }) as JsonObject;
  if (Array.isArray(json.product_ids) && json.product_ids.length === 0) delete json.product_ids;
  return { parameters: json };
}
