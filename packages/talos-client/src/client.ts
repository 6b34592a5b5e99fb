import { inspect } from "node:util";
import { cosiMethods } from "./cosi.js";
import { systemClock, waitForHealth } from "./health.js";
import { createCalls } from "./internal/call.js";
import { lazyConnection } from "./internal/connection.js";
import { iterable } from "./internal/messages.js";
import { etcdMethods } from "./methods/etcd.js";
import { lifecycleMethods } from "./methods/lifecycle.js";
import { machineMethods } from "./methods/machine.js";
import { streamMethods } from "./methods/streams.js";
import type { TalosClient, TalosClientOptions } from "./types.js";
import { upgradeMethod } from "./upgrade.js";

/**
 * Creates a Talos API client. Connection material comes from a talosconfig (path, YAML, object), from
 * PEM options, or `insecure` for maintenance mode; nothing connects until the first call.
 *
 * @example
 * ```ts
 * const client = createTalosClient({ talosconfig: "./talosconfig", nodes: ["10.0.0.2"] });
 * const [result] = await client.version();
 * if (result?.ok) console.log(result.value.tag);
 * client.close();
 * ```
 * @throws TalosClientError (from calls) `INVALID_TALOSCONFIG`, `INVALID_ARGUMENT`, and the mapped gRPC codes
 */
export function createTalosClient(options: TalosClientOptions = {}): TalosClient {
  const connection = lazyConnection(options);
  const c = createCalls(connection, {
    defaultTimeoutMs: options.timeoutMs ?? 30_000,
    readAttempts: Math.max(1, options.readAttempts ?? 4),
    retryBaseDelayMs: options.retryBaseDelayMs ?? 200,
    onRetry: options.onRetry,
    concurrency: Math.max(1, options.concurrency ?? 16),
    clock: systemClock,
  });

  const client: TalosClient = {
    ...machineMethods(c),
    ...lifecycleMethods(c),
    upgrade: upgradeMethod(c, () => client),
    ...etcdMethods(c),
    ...streamMethods(c),
    ...cosiMethods(c),

    waitForHealthy(opts) {
      return waitForHealth(client, opts);
    },

    call(method, request, opts = {}) {
      return (async () => {
        const { node } = await c.singleNode(opts.node);
        return c.unary(method, request, node, opts, opts.idempotent ?? false);
      })();
    },

    stream(method, request, opts = {}) {
      return iterable(async function* () {
        const { node } = await c.singleNode(opts.node);
        yield* c.serverStream(method, request, node, opts);
      });
    },

    close() {
      connection.close();
    },
  };

  Object.defineProperty(client, inspect.custom, { value: () => "TalosClient {}", enumerable: false });
  Object.defineProperty(client, "toJSON", { value: () => ({}), enumerable: false });
  return client;
}
