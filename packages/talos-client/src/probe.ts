import { createTalosClient } from "./client.js";
import { isTalosClientError, TalosClientError } from "./errors.js";
import type { Talosconfig } from "./talosconfig.js";
import type { TalosClientOptions } from "./types.js";

/** What {@link detectNodeMode} found at an endpoint. */
export type NodeMode = "configured" | "maintenance" | "unreachable";

/** Options of {@link detectNodeMode}. */
export interface DetectNodeModeOptions {
  /** The node's own API endpoint (`host` or `host:port`); the probe talks to it directly. */
  endpoint: string;
  /** Credentials of the cluster: a talosconfig (path, YAML or object) or PEM ca/cert/key. */
  talosconfig?: string | Talosconfig | object;
  context?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** With maintenance: accepted SPKI fingerprints of the maintenance certificate. */
  spkiPins?: string[];
  /** Deadline of each probe call; default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The outcome of {@link detectNodeMode}. */
export interface DetectNodeModeResult {
  mode: NodeMode;
  /** The Talos version when the node answered over mutual TLS. */
  version?: string;
  /** Why the node counts as unreachable (the last failure), never secret material. */
  error?: TalosClientError;
}

function asError(error: unknown): TalosClientError {
  return isTalosClientError(error) ? error : TalosClientError.from(error, "UNKNOWN");
}

/**
 * Tells a configured node (answers `version` over mutual TLS with these credentials) from one in
 * maintenance mode (answers an insecure `disks` call) and from one that answers neither. `disks` is the
 * probe because it is allowed in maintenance on every Talos line: ≤1.12 runs a separate maintenance
 * server without `version` for insecure clients (UNIMPLEMENTED there), ≥1.13 gives them `os:reader`
 * (talos internal/app/maintenance/server.go; internal/app/machined/pkg/system/services/machined.go).
 * talosctl uses the same call to see a reset node back in maintenance. Never throws for a node that is
 * down; throws only on bad options.
 */
export async function detectNodeMode(options: DetectNodeModeOptions): Promise<DetectNodeModeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const call = options.signal ? { signal: options.signal } : {};
  let secureError: TalosClientError | undefined;
  if (options.talosconfig !== undefined || options.ca !== undefined) {
    const secureOptions: TalosClientOptions = { endpoints: [options.endpoint], timeoutMs, readAttempts: 1 };
    if (options.talosconfig !== undefined) secureOptions.talosconfig = options.talosconfig;
    if (options.context !== undefined) secureOptions.context = options.context;
    if (options.ca !== undefined) secureOptions.ca = options.ca;
    if (options.cert !== undefined) secureOptions.cert = options.cert;
    if (options.key !== undefined) secureOptions.key = options.key;
    // The probe talks to the endpoint itself: no node targeting even if the talosconfig names nodes.
    secureOptions.nodes = [];
    const secure = createTalosClient(secureOptions);
    try {
      const [result] = await secure.version(call);
      if (result?.ok) return { mode: "configured", version: result.value.tag };
      secureError = result?.ok === false ? result.error : undefined;
      if (secureError?.code === "INVALID_TALOSCONFIG" || secureError?.code === "INVALID_ARGUMENT") {
        throw secureError;
      }
    } finally {
      secure.close();
    }
  }
  const insecure = createTalosClient({
    endpoints: [options.endpoint],
    insecure: true,
    timeoutMs,
    readAttempts: 1,
    ...(options.spkiPins ? { spkiPins: options.spkiPins } : {}),
  });
  try {
    const [result] = await insecure.disks(call);
    if (result?.ok) return { mode: "maintenance" };
    const error = result?.ok === false ? result.error : undefined;
    if (error?.code === "CANCELLED") throw error;
    // A configured node refuses a client without a certificate; its mutual-TLS answer says more.
    return { mode: "unreachable", error: secureError ?? asError(error ?? "no reply") };
  } finally {
    insecure.close();
  }
}
