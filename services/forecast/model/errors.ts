/** Fewer days of history than a forecast needs; the message is the predecessor's, verbatim. */
export class InsufficientDataError extends Error {
  override readonly name = "InsufficientDataError";
  constructor(
    readonly required: number,
    readonly got: number,
  ) {
    super(`Insufficient transaction data. Need at least ${required} days, got ${got}`);
  }
}

/** An input that breaks a rule, naming the field and the rule. */
export class InvalidForecastInputError extends Error {
  override readonly name = "InvalidForecastInputError";
  constructor(
    readonly field: string,
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}
