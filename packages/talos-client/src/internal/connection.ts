import { TalosClientError } from "../errors.js";
import { loadTalosconfig, resolveCredentials, selectContext } from "../talosconfig.js";
import type { Transport } from "../transport.js";
import { createGrpcTransport, parseEndpoint } from "../transport.js";
import type { TalosClientOptions } from "../types.js";

/** What a client's calls go over once its options are resolved. */
export interface Connection {
  transport: Transport;
  /** The default target nodes (options, else the talosconfig context). */
  nodes: string[];
  /** The first endpoint's host: the label of calls that target no node. */
  endpointHost: string;
  /** Maintenance mode: no routing on the node side, so a target node is dialled directly. */
  insecure: boolean;
  /** A transport to one node in maintenance mode (cached per node). */
  direct(node: string): Transport;
  close(): void;
}

/** A client's lazily opened connection: nothing is read or dialled until the first call. */
export interface LazyConnection {
  get(): Promise<Connection>;
  close(): void;
}

/**
 * Resolves connection material from a talosconfig (path, YAML, object), PEM options or `insecure`, once,
 * on first use; a failed resolution is retried by the next call.
 */
export function lazyConnection(options: TalosClientOptions): LazyConnection {
  let resolving: Promise<Connection> | undefined;
  let closed = false;
  return {
    get() {
      if (closed) return Promise.reject(new TalosClientError("CANCELLED", "the client is closed"));
      resolving ??= openConnection(options);
      resolving.catch(() => {
        resolving = undefined;
      });
      return resolving;
    },
    close() {
      closed = true;
      void resolving?.then(
        (r) => r.close(),
        () => undefined,
      );
    },
  };
}

async function openConnection(options: TalosClientOptions): Promise<Connection> {
  let contextEndpoints: string[] = [];
  let contextNodes: string[] = [];
  let creds: { ca?: string; cert: string; key: string } | undefined;
  if (options.talosconfig !== undefined) {
    const config = await loadTalosconfig(options.talosconfig);
    const { name, context } = selectContext(config, options.context);
    contextEndpoints = context.endpoints;
    contextNodes = context.nodes;
    if (!options.insecure && options.cert === undefined) creds = resolveCredentials(context, name);
  }
  if (options.ca !== undefined || options.cert !== undefined || options.key !== undefined) {
    if (options.cert === undefined || options.key === undefined) {
      throw new TalosClientError("INVALID_ARGUMENT", "cert and key must be given together (ca is optional)");
    }
    creds = {
      cert: options.cert,
      key: options.key,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    };
  }
  const endpoints = options.endpoints ?? contextEndpoints;
  const nodes = options.nodes ?? contextNodes;
  let transport = options.transport;
  if (transport === undefined) {
    if (endpoints.length === 0) {
      throw new TalosClientError(
        "INVALID_ARGUMENT",
        "no endpoints: pass endpoints or a talosconfig with some",
      );
    }
    if (options.insecure) {
      transport = createGrpcTransport({
        endpoints,
        tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
      });
    } else {
      if (creds === undefined) {
        throw new TalosClientError(
          "INVALID_ARGUMENT",
          "no client credentials: pass a talosconfig, ca/cert/key, or insecure for maintenance mode",
        );
      }
      transport = createGrpcTransport({ endpoints, tls: { mode: "mtls", ...creds } });
    }
  }
  const firstEndpoint = transport.endpoints[0] ?? endpoints[0] ?? "endpoint";
  let endpointHost = firstEndpoint;
  try {
    endpointHost = parseEndpoint(firstEndpoint).host;
  } catch {
    // keep the raw text as the label
  }
  const shared = transport;
  const injected = options.transport !== undefined;
  const directs = new Map<string, Transport>();
  const direct = (node: string): Transport => {
    let t = directs.get(node);
    if (t === undefined) {
      if (injected) {
        throw new TalosClientError(
          "INVALID_ARGUMENT",
          `maintenance mode cannot route to ${node} through an injected transport: pass a transport to that node`,
          { details: { node } },
        );
      }
      t = createGrpcTransport({
        endpoints: [node],
        tls: { mode: "insecure", ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}) },
      });
      directs.set(node, t);
    }
    return t;
  };
  return {
    transport,
    nodes,
    endpointHost,
    insecure: options.insecure === true,
    direct,
    close() {
      shared.close();
      for (const t of directs.values()) t.close();
    },
  };
}
