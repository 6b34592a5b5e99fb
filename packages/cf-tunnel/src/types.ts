import type Cloudflare from "cloudflare";
import type { ConfigurationUpdateParams } from "cloudflare/resources/zero-trust/tunnels/cloudflared/configurations";

/** A progress event: a plain, secret-free object. */
export interface ProgressEvent {
  type: string;
  message: string;
  [key: string]: unknown;
}

/**
 * Retry settings for 429 and 5xx answers and lost connections. `Retry-After` is honoured as sent (no cap,
 * plus up to 10 % jitter); other waits back off exponentially. All waits of one call to this library
 * share `budgetMs`.
 */
export interface RetryOptions {
  /** Retries of one request after its first attempt (default 6). */
  retries?: number;
  /** First backoff delay in ms when Cloudflare names none (default 500), doubled per attempt. */
  baseDelayMs?: number;
  /** Upper bound of the backoff delay (default 8000 ms); a `Retry-After` from Cloudflare is not capped. */
  maxDelayMs?: number;
  /**
   * Total time in ms one library call may spend waiting to retry (default 360000: a 5-minute rate-limit
   * block and some backoff). A wait that would exceed it fails at once (`RATE_LIMITED` for a 429).
   */
  budgetMs?: number;
  /** Injectable sleep (tests pass one that records delays and returns at once). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable source of jitter in [0, 1) (default `Math.random`; tests pass `() => 0`). */
  random?: () => number;
}

/** Options every call accepts. */
export interface CommonOptions {
  signal?: AbortSignal;
  /**
   * Progress, one event per step; a `retry` event (with `delayMs` and `budgetLeftMs`) is sent when a wait
   * starts, once per burst of calls waiting out the same limit, so a caller can print it while waiting.
   */
  onProgress?: (event: ProgressEvent) => void;
  retry?: RetryOptions;
}

/** Options of calls that talk to Cloudflare: the caller constructs and injects the SDK client. */
export interface ClientOptions extends CommonOptions {
  client: Cloudflare;
}

/** Origin options with cloudflared's types (durations are whole seconds). */
export interface OriginRequest {
  connectTimeout?: number;
  tlsTimeout?: number;
  tcpKeepAlive?: number;
  keepAliveTimeout?: number;
  keepAliveConnections?: number;
  noHappyEyeballs?: boolean;
  httpHostHeader?: string;
  originServerName?: string;
  matchSNItoHost?: boolean;
  caPool?: string;
  noTLSVerify?: boolean;
  disableChunkedEncoding?: boolean;
  http2Origin?: boolean;
  proxyType?: "" | "socks";
  access?: { audTag: string[]; teamName: string; required?: boolean };
}

/** Origin options as a user writes them: durations may also be strings such as `"30s"` or `"2m"`. */
export type OriginRequestInput = Omit<
  OriginRequest,
  "connectTimeout" | "tlsTimeout" | "tcpKeepAlive" | "keepAliveTimeout"
> & {
  connectTimeout?: number | string;
  tlsTimeout?: number | string;
  tcpKeepAlive?: number | string;
  keepAliveTimeout?: number | string;
};

/** Who may reach a protected route (each list is OR'ed). */
export interface AccessInput {
  emails?: string[];
  emailDomains?: string[];
  /** Access group ids. */
  groups?: string[];
  /** Service token ids (machine clients). */
  serviceTokens?: string[];
  /** Session duration such as `"24h"` (default `"24h"`). */
  sessionDuration?: string;
}

/** One route as declared by the user. */
export interface RouteInput {
  /** FQDN inside the zone; one leading `*.` wildcard at most. */
  hostname: string;
  /** `http://svc.ns.svc.cluster.local:80`, `https://...`, `tcp://...`, `http_status:404`, ... (no path). */
  service: string;
  /** cloudflared path regex (unanchored Go regexp): use `^/api(/|$)` for a prefix. */
  path?: string;
  originRequest?: OriginRequestInput;
  /** Publish without Access. Required (true) for a route without `access`. */
  public?: boolean;
  access?: AccessInput;
  /** Take over a foreign DNS record (or Access app) with this hostname. */
  adopt?: boolean;
}

/** One cloudflared ingress rule as sent to the API. */
export interface IngressRule {
  hostname?: string;
  service: string;
  path?: string;
  originRequest?: OriginRequest;
}

/** Normalised Access requirements of a route. */
export interface AccessRequirements {
  emails: string[];
  emailDomains: string[];
  groups: string[];
  serviceTokens: string[];
  sessionDuration: string;
}

/** A validated, normalised route. */
export interface DesiredRoute {
  hostname: string;
  service: string;
  path?: string;
  originRequest?: OriginRequest;
  public: boolean;
  access?: AccessRequirements;
  adopt: boolean;
  /** Index in the input array. */
  index: number;
}

/** The validated desired state: routes in rule order and the ingress list (catch-all last). */
export interface DesiredState {
  zone: string;
  routes: DesiredRoute[];
  ingress: IngressRule[];
}

/**
 * The top-level settings of a tunnel configuration besides `ingress`, as read: the SDK types
 * `originRequest`; other keys (`warp-routing`, ...) pass through unchanged.
 */
export type TunnelSettings = Omit<ConfigurationUpdateParams.Config, "ingress"> & Record<string, unknown>;
