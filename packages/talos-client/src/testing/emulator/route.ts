import type {
  DescMessage,
  DescMethod,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { HandlerContext } from "./types.js";

type UnaryFn = (request: unknown, ctx: HandlerContext) => Promise<unknown>;
type StreamFn = (request: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
type ClientStreamFn = (requests: AsyncIterable<unknown>, ctx: HandlerContext) => Promise<unknown>;

/** One entry of the route table: a method and the handler that answers it. */
export type Route =
  | { kind: "unary"; fn: UnaryFn; method: DescMethod }
  | { kind: "server"; fn: StreamFn; method: DescMethod }
  | { kind: "client"; fn: ClientStreamFn; method: DescMethod };

/** A unary route. */
export function unary<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  fn: (request: MessageShape<I>, ctx: HandlerContext) => Promise<MessageInitShape<O>>,
): Route {
  return { kind: "unary", method, fn: fn as UnaryFn };
}

/** A server-streaming route. */
export function serverStream<I extends DescMessage, O extends DescMessage>(
  method: DescMethodServerStreaming<I, O>,
  fn: (request: MessageShape<I>, ctx: HandlerContext) => AsyncIterable<MessageInitShape<O>>,
): Route {
  return { kind: "server", method, fn: fn as StreamFn };
}

/** A client-streaming route. */
export function clientStream<I extends DescMessage, O extends DescMessage>(
  method: DescMethodClientStreaming<I, O>,
  fn: (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => Promise<MessageInitShape<O>>,
): Route {
  return { kind: "client", method, fn: fn as ClientStreamFn };
}
