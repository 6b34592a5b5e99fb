import type {
  DescMessage,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { isTalosClientError, TalosClientError } from "../errors.js";
import type { DataSchema, Metadata } from "../gen/common/common_pb.js";
import type { Clock } from "../health.js";
import { codeFromGrpcStatus } from "../status.js";
import type { Transport, TransportCallOptions } from "../transport.js";
import type { CallOptions, NodeCallOptions, NodeResult, NodesCallOptions, RetryEvent } from "../types.js";
import type { Connection, LazyConnection } from "./connection.js";
import { checkMetadata, first, type Reply } from "./messages.js";

/** How calls are made: deadlines, retries and fan-out width. */
export interface CallPolicy {
  /** Deadline of unary calls without their own. */
  defaultTimeoutMs: number;
  /** Attempts of an idempotent call (1 = no retry). */
  readAttempts: number;
  retryBaseDelayMs: number;
  onRetry: ((event: RetryEvent) => void) | undefined;
  /** Fan-out calls in flight at once. */
  concurrency: number;
  clock: Clock;
}

/** A unary call to one target (`node` undefined: the endpoint itself). */
export type UnaryCall = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  node: string | undefined,
  opts: CallOptions | undefined,
  idempotent: boolean,
) => Promise<MessageShape<O>>;

/** The single target of a node call and the name results and errors carry. */
export interface Target {
  node: string | undefined;
  label: string;
}

function asClientError(error: unknown): TalosClientError {
  return isTalosClientError(error) ? error : TalosClientError.from(error);
}

/** The error labelled with the node it came from (unless it names one already). */
export function withNode(error: TalosClientError, node: string): TalosClientError {
  if (error.details?.node !== undefined) return error;
  return new TalosClientError(error.code, error.rawMessage, {
    cause: error.cause ?? error,
    details: { ...(error.details ?? {}), node },
  });
}

/**
 * Transport decorator: aims every call at `node`. In maintenance mode Talos does no routing (a `node`
 * key is ignored and the endpoint answers), so the node is dialled directly, as talosctl --insecure
 * does. With no node the endpoint itself answers: only unambiguous with exactly one endpoint.
 */
export function targetNode(connection: Connection, node: string | undefined): Transport {
  let base = connection.transport;
  let metadata: Record<string, string> | undefined;
  if (node === undefined) {
    if (base.endpoints.length > 1) {
      throw new TalosClientError(
        "INVALID_ARGUMENT",
        "several endpoints and no target node: pass the node to target (the call would reach any endpoint)",
        { details: { endpoints: base.endpoints.length } },
      );
    }
  } else if (connection.insecure) base = connection.direct(node);
  else metadata = { node };
  const aimed = (options: TransportCallOptions | undefined): TransportCallOptions | undefined =>
    metadata === undefined ? options : { ...options, metadata: { ...options?.metadata, ...metadata } };
  return {
    endpoints: base.endpoints,
    unary: (method, request, options) => base.unary(method, request, aimed(options)),
    serverStream: (method, request, options) => base.serverStream(method, request, aimed(options)),
    clientStream: (method, requests, options) => base.clientStream(method, requests, aimed(options)),
    close: () => undefined,
  };
}

/** Transport decorator: every error of a call names `label` (the node or endpoint it went to). */
export function labelErrors(transport: Transport, label: string): Transport {
  return {
    endpoints: transport.endpoints,
    async unary(method, request, options) {
      try {
        return await transport.unary(method, request, options);
      } catch (error) {
        throw withNode(asClientError(error), label);
      }
    },
    async *serverStream(method, request, options) {
      try {
        yield* transport.serverStream(method, request, options);
      } catch (error) {
        throw withNode(asClientError(error), label);
      }
    },
    async clientStream(method, requests, options) {
      try {
        return await transport.clientStream(method, requests, options);
      } catch (error) {
        throw withNode(asClientError(error), label);
      }
    },
    close: () => transport.close(),
  };
}

/**
 * Transport decorator: retries a call that failed UNAVAILABLE, up to `attempts` in all, waiting
 * exponentially from the base delay (capped at 3 s, with jitter); a stream only while nothing was
 * received yet. Never after the caller aborted.
 */
export function withRetry(
  transport: Transport,
  policy: CallPolicy,
  attempts: number,
  label: string,
): Transport {
  const backoff = (
    attempt: number,
    method: { parent: { typeName: string }; name: string },
    error: TalosClientError,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    const cap = Math.min(3000, policy.retryBaseDelayMs * 2 ** (attempt - 1));
    const delayMs = cap / 2 + Math.random() * (cap / 2);
    policy.onRetry?.({
      method: `/${method.parent.typeName}/${method.name}`,
      node: label,
      attempts,
      error,
      attempt: attempt + 1,
      delayMs,
    });
    return policy.clock.sleep(delayMs, signal);
  };
  const retryable = (e: TalosClientError, attempt: number, signal: AbortSignal | undefined): boolean =>
    e.code === "UNAVAILABLE" && attempt < attempts && signal?.aborted !== true;
  return {
    endpoints: transport.endpoints,
    async unary(method, request, options) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await transport.unary(method, request, options);
        } catch (error) {
          const e = asClientError(error);
          if (!retryable(e, attempt, options?.signal)) throw e;
          await backoff(attempt, method, e, options?.signal);
        }
      }
    },
    async *serverStream(method, request, options) {
      for (let attempt = 1; ; attempt++) {
        let received = false;
        try {
          for await (const message of transport.serverStream(method, request, options)) {
            received = true;
            yield message;
          }
          return;
        } catch (error) {
          const e = asClientError(error);
          if (received || !retryable(e, attempt, options?.signal)) throw e;
          await backoff(attempt, method, e, options?.signal);
        }
      }
    },
    clientStream: (method, requests, options) => transport.clientStream(method, requests, options),
    close: () => transport.close(),
  };
}

/** Streams are reads except the upgrade ones. */
function idempotentStream(method: { parent: { typeName: string } }): boolean {
  return (
    method.parent.typeName !== "machine.ImageService" && method.parent.typeName !== "machine.LifecycleService"
  );
}

/** The calls every client method is written in: one node, several nodes, raw streams. */
export interface Calls {
  connection(): Promise<Connection>;
  unary: UnaryCall;
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
  ): AsyncIterable<MessageShape<O>>;
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodClientStreaming<I, O>,
    requests: AsyncIterable<MessageInitShape<I>>,
    target: Target,
    opts: CallOptions | undefined,
  ): Promise<MessageShape<O>>;
  /** The one node a node call targets: the given one, else the only default node, else the endpoint. */
  singleNode(node: string | undefined): Promise<Target>;
  /** A unary call to the one target of `opts.node`: its reply messages and the node's label. */
  onNode<I extends DescMessage, O extends DescMessage>(
    opts: NodeCallOptions,
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    idempotent: boolean,
  ): Promise<{ label: string; node: string | undefined; messages: Reply<O>[] }>;
  /** Reads a stream of `common.Data` from one node into one buffer; a node error in any message throws. */
  readData<I extends DescMessage>(
    method: DescMethodServerStreaming<I, typeof DataSchema>,
    request: MessageInitShape<I>,
    target: Target,
    opts: CallOptions | undefined,
  ): Promise<Buffer>;
  fanOut<T>(
    opts: NodesCallOptions,
    fn: (node: string | undefined, label: string, call: UnaryCall) => Promise<T>,
  ): Promise<NodeResult<T>[]>;
  /** Fans one read-only unary call out to the target nodes; each node's single reply goes through `map`. */
  fanOutFirst<I extends DescMessage, O extends DescMessage, T>(
    opts: NodesCallOptions,
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    what: string,
    map: (message: Reply<O>, label: string) => T,
  ): Promise<NodeResult<T>[]>;
}

/** The call layer over a lazy connection: node targeting, retry and error labelling as transport decorators. */
export function createCalls(lazy: LazyConnection, policy: CallPolicy): Calls {
  const callOptions = (opts: CallOptions | undefined, unary: boolean): TransportCallOptions => {
    const result: TransportCallOptions = {};
    const timeout = opts?.timeoutMs ?? (unary ? policy.defaultTimeoutMs : undefined);
    if (timeout !== undefined) result.timeoutMs = timeout;
    if (opts?.signal !== undefined) result.signal = opts.signal;
    return result;
  };

  /** The decorated transport of one call: aimed at the node, retried `attempts` times, errors labelled. */
  const transportTo = async (node: string | undefined, attempts: number): Promise<Transport> => {
    const connection = await lazy.get();
    const label = node ?? connection.endpointHost;
    return labelErrors(withRetry(targetNode(connection, node), policy, attempts, label), label);
  };

  const unary: UnaryCall = async (method, request, node, opts, idempotent) => {
    const transport = await transportTo(node, idempotent ? policy.readAttempts : 1);
    return transport.unary(method, request, callOptions(opts, true));
  };

  async function* serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    node: string | undefined,
    opts: CallOptions | undefined,
  ): AsyncGenerator<MessageShape<O>> {
    const transport = await transportTo(node, idempotentStream(method) ? policy.readAttempts : 1);
    yield* transport.serverStream(method, request, callOptions(opts, false));
  }

  const singleNode = async (node: string | undefined): Promise<Target> => {
    const { nodes, endpointHost } = await lazy.get();
    if (node !== undefined) return { node, label: node };
    if (nodes.length > 1) {
      throw new TalosClientError("INVALID_ARGUMENT", "several default nodes: pass the node to target", {
        details: { nodes },
      });
    }
    return { node: nodes[0], label: nodes[0] ?? endpointHost };
  };

  /**
   * One-to-many proxying (deprecated upstream): one call carrying every target in `nodes` metadata; apid
   * answers with one message per node (metadata.hostname), failed nodes as metadata-only errors.
   */
  const legacyBatcher = (targets: string[]): UnaryCall => {
    const batches = new Map<string, Promise<unknown>>();
    return (async (
      method: DescMethodUnary<DescMessage, DescMessage>,
      request: MessageInitShape<DescMessage>,
      node: string | undefined,
      opts: CallOptions | undefined,
    ) => {
      const key = `${method.parent.typeName}/${method.name}`;
      let batch = batches.get(key);
      if (batch === undefined) {
        batch = (async () => {
          const { transport } = await lazy.get();
          const callOpts = callOptions(opts, true);
          callOpts.metadata = { nodes: targets };
          return transport.unary(method, request, callOpts);
        })();
        batches.set(key, batch);
      }
      const response = (await batch) as { messages: { metadata?: Metadata }[] };
      const message = response.messages.find((m) => m.metadata?.hostname === node);
      if (message === undefined) {
        throw new TalosClientError("INTERNAL", `${node} sent no reply in the one-to-many response`, {
          details: { node },
        });
      }
      const error = message.metadata?.error ?? "";
      if (error !== "") {
        const code =
          message.metadata?.status === undefined
            ? "NODE_ERROR"
            : codeFromGrpcStatus(message.metadata.status.code);
        throw new TalosClientError(code, `${node}: ${error}`, {
          details: { node, grpcCode: message.metadata?.status?.code },
        });
      }
      return { ...response, messages: [message] };
    }) as unknown as UnaryCall;
  };

  const fanOut: Calls["fanOut"] = async (opts, fn) => {
    const { nodes, endpointHost, insecure } = await lazy.get();
    const targets: (string | undefined)[] = opts.nodes ?? (nodes.length > 0 ? nodes : [undefined]);
    const call =
      opts.legacyFanOut === true && !insecure && targets.every((t) => t !== undefined)
        ? legacyBatcher(targets as string[])
        : unary;
    const out: NodeResult<Awaited<ReturnType<typeof fn>>>[] = new Array(targets.length);
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < targets.length) {
        const i = index++;
        const target = targets[i];
        const label = target ?? endpointHost;
        try {
          out[i] = { node: label, ok: true, value: await fn(target, label, call) };
        } catch (error) {
          out[i] = { node: label, ok: false, error: withNode(asClientError(error), label) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(policy.concurrency, targets.length) }, worker));
    return out;
  };

  return {
    connection: () => lazy.get(),
    unary,
    serverStream,
    async clientStream(method, requests, target, opts) {
      const connection = await lazy.get();
      return labelErrors(targetNode(connection, target.node), target.label).clientStream(
        method,
        requests,
        callOptions(opts, false),
      );
    },
    singleNode,
    async onNode<I extends DescMessage, O extends DescMessage>(
      opts: NodeCallOptions,
      method: DescMethodUnary<I, O>,
      request: MessageInitShape<I>,
      idempotent: boolean,
    ) {
      const { node, label } = await singleNode(opts.node);
      const res = (await unary(method, request, node, opts, idempotent)) as MessageShape<O> & {
        messages: Reply<O>[];
      };
      return { node, label, messages: res.messages };
    },
    async readData(method, request, target, opts) {
      const chunks: Uint8Array[] = [];
      for await (const data of serverStream(method, request, target.node, opts)) {
        checkMetadata(data.metadata, target.label);
        chunks.push(data.bytes);
      }
      return Buffer.concat(chunks);
    },
    fanOut,
    fanOutFirst: (opts, method, request, what, map) =>
      fanOut(opts, async (node, label, call) => {
        const res = (await call(method, request, node, opts, true)) as unknown as {
          messages: Parameters<typeof map>[0][];
        };
        return map(first(res.messages, label, what), label);
      }),
  };
}
