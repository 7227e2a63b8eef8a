import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallContext } from "./context.js";

/** One RPC written once, whatever transport carries it. */
export type MethodImpl<M> = M extends {
  methodKind: "unary";
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? (request: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O>>
  : M extends {
        methodKind: "server_streaming";
        input: infer I extends DescMessage;
        output: infer O extends DescMessage;
      }
    ? (request: MessageShape<I>, ctx: CallContext) => AsyncIterable<MessageInitShape<O>>
    : never;

/**
 * A service's methods. A method left out answers UNIMPLEMENTED, which is how a
 * feature that is not built yet says so.
 */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]?: MethodImpl<S["method"][K]>;
};
