import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { compileRules, type CompiledRules } from "./compiled-rules.js";
import { MeshError, type FieldViolation } from "./errors.js";
import { Status } from "./status.js";

/**
 * Checks requests against the buf.validate rules in the contract, so the rules
 * live in one place and every transport enforces the same ones. A request its
 * compiled rules pass is valid at once; any other goes to protovalidate, which
 * decides and words the violations.
 */
export class RequestValidator {
  private readonly validator: Validator = createValidator();
  private readonly compiled = new Map<DescMessage, CompiledRules | undefined>();

  check<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
    let fast = this.compiled.get(schema);
    if (fast === undefined && !this.compiled.has(schema)) this.compiled.set(schema, (fast = compileRules(schema)));
    if (fast?.(message)) return;
    const result = this.validator.validate(schema, message);
    if (result.kind === "valid") return;
    if (result.kind === "error") {
      throw new MeshError(Status.INTERNAL, `validation rules of ${schema.typeName} could not be evaluated`);
    }
    const violations: FieldViolation[] = result.violations.map((v) => ({
      field: pathToString(v.field),
      rule: v.ruleId,
      message: v.message,
    }));
    const text = violations.map((v) => `${v.field || schema.name}: ${v.message} [${v.rule}]`).join("; ");
    throw new MeshError(Status.INVALID_ARGUMENT, text, violations);
  }
}
