import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { MeshError, type FieldViolation } from "./errors.js";
import { Status } from "./status.js";

/**
 * Checks requests against the buf.validate rules in the contract, so the rules
 * live in one place and every transport enforces the same ones.
 */
export class RequestValidator {
  private readonly validator: Validator = createValidator();

  check<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
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
