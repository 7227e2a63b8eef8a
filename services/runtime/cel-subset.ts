import { isFieldSet, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { parse } from "@bufbuild/cel";

/**
 * Compiles the few CEL shapes the contract's rules use (field access, has(),
 * size() of a list, indexing, comparisons, && || !) into a plain function.
 * Anything else is Unsupported, and protovalidate keeps evaluating that
 * message. Types are checked here, at compile time, so the function only
 * answers true where CEL would: a runtime surprise (an index out of range)
 * throws, and the caller lets protovalidate decide.
 */
export class Unsupported extends Error {}

type Kind = "int" | "double" | "bool" | "string" | "list" | "message";
interface Typed {
  kind: Kind;
  element?: Typed;
  schema?: DescMessage;
  fn: (root: unknown) => unknown;
}

/** What `this` is: the message (message rules) or one field's value (field rules). */
export type CelScope = { message: DescMessage } | { field: DescField };

// The parser's tree is the cel.expr.Expr message; only its shape matters here.
interface Expr {
  exprKind:
    | { case: "identExpr"; value: { name: string } }
    | { case: "selectExpr"; value: { operand?: Expr; field: string; testOnly: boolean } }
    | { case: "callExpr"; value: { target?: Expr; function: string; args: Expr[] } }
    | { case: "constExpr"; value: { constantKind: { case: string | undefined; value?: unknown } } }
    | { case: string | undefined; value?: unknown };
}

export function compileCel(expression: string, scope: CelScope): (root: unknown) => boolean {
  let tree: Expr;
  try {
    tree = parse(expression).expr as unknown as Expr;
  } catch (err) {
    throw new Unsupported(`rule ${expression} does not parse: ${(err as Error).message}`);
  }
  const compiled = compile(tree, scope);
  if (compiled.kind !== "bool") throw new Unsupported(`rule ${expression} does not yield a bool`);
  const fn = compiled.fn;
  return (root) => fn(root) === true;
}

function compile(e: Expr, scope: CelScope): Typed {
  switch (e.exprKind.case) {
    case "identExpr": {
      const { name } = e.exprKind.value as { name: string };
      if (name !== "this") throw new Unsupported(`identifier ${name}`);
      if ("message" in scope) return { kind: "message", schema: scope.message, fn: (root) => root };
      const type = typeOfField(scope.field);
      // A message field's value may be a well-known type, which CEL unwraps and protobuf-es may unbox.
      if (type.kind === "message") throw new Unsupported(`rules on message field ${scope.field.name}`);
      return { ...type, fn: (root) => root };
    }
    case "selectExpr": {
      const { operand, field: name, testOnly } = e.exprKind.value as { operand?: Expr; field: string; testOnly: boolean };
      if (!operand) throw new Unsupported("select without operand");
      const target = compile(operand, scope);
      if (target.kind !== "message") throw new Unsupported(`.${name} on a ${target.kind}`);
      const field = target.schema!.fields.find((f) => f.name === name);
      if (!field) throw new Unsupported(`no field ${name}`);
      if (field.oneof) throw new Unsupported(`oneof member ${name}`);
      const of = target.fn;
      if (testOnly) return { kind: "bool", fn: (root) => isFieldSet(of(root) as never, field) };
      const key = field.localName;
      const type = typeOfField(field);
      if (type.kind === "message") throw new Unsupported(`reading message field ${name}`);
      // CEL reads an unset optional field as its zero value; protobuf-es holds undefined.
      const zero = { int: 0, double: 0, bool: false, string: "" }[type.kind as "int" | "double" | "bool" | "string"];
      if (zero !== undefined) return { ...type, fn: (root) => (of(root) as Record<string, unknown>)[key] ?? zero };
      return { ...type, fn: (root) => (of(root) as Record<string, unknown>)[key] };
    }
    case "constExpr": {
      const c = (e.exprKind.value as { constantKind: { case: string | undefined; value?: unknown } }).constantKind;
      switch (c.case) {
        case "int64Value": {
          const v = Number(c.value as bigint);
          if (!Number.isSafeInteger(v)) throw new Unsupported("int beyond 2^53");
          return { kind: "int", fn: () => v };
        }
        case "doubleValue":
          return { kind: "double", fn: () => c.value };
        case "stringValue":
          return { kind: "string", fn: () => c.value };
        case "boolValue":
          return { kind: "bool", fn: () => c.value };
        default:
          throw new Unsupported(`constant ${c.case}`);
      }
    }
    case "callExpr":
      return call(e.exprKind.value as { target?: Expr; function: string; args: Expr[] }, scope);
    default:
      throw new Unsupported(`expression ${e.exprKind.case}`);
  }
}

function call(c: { target?: Expr; function: string; args: Expr[] }, scope: CelScope): Typed {
  const args = (c.target ? [c.target, ...c.args] : c.args).map((a) => compile(a, scope));
  const [a, b] = args;
  const fa = a?.fn;
  const fb = b?.fn;
  switch (c.function) {
    case "size":
      if (args.length !== 1 || a.kind !== "list") throw new Unsupported("size() of anything but a list");
      return { kind: "int", fn: (root) => (fa(root) as unknown[]).length };
    case "_[_]":
      if (args.length !== 2 || a.kind !== "list" || b.kind !== "int") throw new Unsupported("indexing anything but a list by an int");
      return {
        ...a.element!,
        fn: (root) => {
          const list = fa(root) as unknown[];
          const i = fb(root) as number;
          if (i < 0 || i >= list.length) throw new RangeError("index out of range");
          return list[i];
        },
      };
    case "_&&_":
      bools(args);
      return { kind: "bool", fn: (root) => fa(root) === true && fb(root) === true };
    case "_||_":
      bools(args);
      return { kind: "bool", fn: (root) => fa(root) === true || fb(root) === true };
    case "!_":
      bools(args);
      return { kind: "bool", fn: (root) => fa(root) === false };
    case "_==_":
    case "_!=_": {
      // Same kinds only: CEL's equality across int and double, or of lists, is not worth mirroring.
      if (args.length !== 2 || a.kind !== b.kind || !["int", "double", "bool", "string"].includes(a.kind)) {
        throw new Unsupported(`${c.function} on ${a?.kind} and ${b?.kind}`);
      }
      return c.function === "_==_"
        ? { kind: "bool", fn: (root) => fa(root) === fb(root) }
        : { kind: "bool", fn: (root) => fa(root) !== fb(root) };
    }
    case "_<_":
    case "_<=_":
    case "_>_":
    case "_>=_": {
      // Numbers only: CEL orders strings by code point, JavaScript by UTF-16 unit.
      if (args.length !== 2 || !numeric(a) || !numeric(b)) throw new Unsupported(`${c.function} on ${a?.kind} and ${b?.kind}`);
      const op = c.function;
      if (op === "_<_") return { kind: "bool", fn: (root) => (fa(root) as number) < (fb(root) as number) };
      if (op === "_<=_") return { kind: "bool", fn: (root) => (fa(root) as number) <= (fb(root) as number) };
      if (op === "_>_") return { kind: "bool", fn: (root) => (fa(root) as number) > (fb(root) as number) };
      return { kind: "bool", fn: (root) => (fa(root) as number) >= (fb(root) as number) };
    }
    default:
      throw new Unsupported(`function ${c.function}`);
  }
}

function bools(args: Typed[]): void {
  if (!args.every((a) => a.kind === "bool")) throw new Unsupported("logic on anything but bools");
}

function numeric(t: Typed | undefined): boolean {
  return t?.kind === "int" || t?.kind === "double";
}

/** The CEL type of a field's value, for the scalar kinds JavaScript holds exactly. */
function typeOfField(field: DescField): Omit<Typed, "fn"> {
  if (field.fieldKind === "list") {
    if (field.listKind === "scalar") return { kind: "list", element: { ...scalarKind(field.scalar), fn: () => undefined } };
    if (field.listKind === "enum") return { kind: "list", element: { kind: "int", fn: () => undefined } };
    throw new Unsupported(`list of ${field.listKind}`);
  }
  if (field.fieldKind === "scalar") return scalarKind(field.scalar);
  if (field.fieldKind === "enum") return { kind: "int" };
  if (field.fieldKind === "message") return { kind: "message", schema: field.message };
  throw new Unsupported(`${field.fieldKind} field`);
}

function scalarKind(scalar: ScalarType): { kind: Kind } {
  switch (scalar) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { kind: "int" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { kind: "double" };
    case ScalarType.BOOL:
      return { kind: "bool" };
    case ScalarType.STRING:
      return { kind: "string" };
    default:
      // 64-bit and unsigned integers are bigints or CEL uints: left to protovalidate.
      throw new Unsupported(`scalar type ${ScalarType[scalar]}`);
  }
}
