import { isIP } from "node:net";
import {
  type ConnectionOptions,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  connect as tlsConnect,
} from "node:tls";
import type {
  DescMessage,
  DescMethodClientStreaming,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { TalosClientError } from "./errors.js";
import { derToPem, normalizePrivateKeyPem, spkiFingerprint } from "./internal/pem.js";
import { deserializerFor, methodPath, serializerFor } from "./internal/rpc.js";
import { fromGrpcError } from "./status.js";

/** Per-call options a {@link Transport} honours. */
export interface TransportCallOptions {
  /** gRPC request metadata, e.g. `{ node: "10.0.0.2" }`. */
  metadata?: Record<string, string | string[]>;
  /** Deadline relative to now. */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * How the client talks to apid. The default is {@link createGrpcTransport}; tests may inject their own
 * (every method receives protobuf-es descriptors and returns protobuf-es messages).
 */
export interface Transport {
  /** The endpoints this transport rotates over, as `host:port`. */
  readonly endpoints: readonly string[];
  /** A unary call. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: TransportCallOptions,
  ): Promise<MessageShape<O>>;
  /** A server-streaming call. */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options?: TransportCallOptions,
  ): AsyncIterable<MessageShape<O>>;
  /** A client-streaming call. */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodClientStreaming<I, O>,
    requests: AsyncIterable<MessageInitShape<I>>,
    options?: TransportCallOptions,
  ): Promise<MessageShape<O>>;
  /** Closes every channel. */
  close(): void;
}

/** TLS settings of {@link createGrpcTransport}. */
export type TransportTls =
  | { mode: "mtls"; ca?: string; cert: string; key: string }
  | { mode: "insecure"; spkiPins?: string[] };

/** Options of {@link createGrpcTransport}. */
export interface GrpcTransportOptions {
  /** Endpoints: `host`, `host:port` or a URL; the port defaults to 50000. */
  endpoints: string[];
  tls: TransportTls;
  /** Maximum received message size; default 32 MiB like Talos. */
  maxReceiveMessageBytes?: number;
  /**
   * Keepalive ping interval while calls are active; default 5.5 minutes (Go servers penalise pings more
   * frequent than every 5 minutes when no data flows).
   */
  keepaliveMs?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** A parsed endpoint. */
export interface Endpoint {
  host: string;
  port: number;
  /** `host:port` (IPv6 hosts bracketed). */
  address: string;
}

/**
 * Parses `host`, `host:port`, `[v6]:port` or `https://host[:port]` into host and port (default 50000;
 * an https URL without a port means 443, as talosctl does).
 * @throws TalosClientError `INVALID_ARGUMENT`
 */
export function parseEndpoint(endpoint: string): Endpoint {
  const text = endpoint.trim();
  let host: string;
  let port: number;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch (cause) {
      throw new TalosClientError("INVALID_ARGUMENT", `invalid endpoint URL "${endpoint}"`, { cause });
    }
    host = url.hostname.replace(/^\[|\]$/g, "");
    port = url.port === "" ? (url.protocol === "https:" ? 443 : 50000) : Number(url.port);
  } else if (text.startsWith("[")) {
    const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (match === null) throw new TalosClientError("INVALID_ARGUMENT", `invalid endpoint "${endpoint}"`);
    host = match[1]!;
    port = match[2] === undefined ? 50000 : Number(match[2]);
  } else if (isIP(text) === 6) {
    host = text;
    port = 50000;
  } else {
    const match = /^([^:/\s]+)(?::(\d+))?$/.exec(text);
    if (match === null) throw new TalosClientError("INVALID_ARGUMENT", `invalid endpoint "${endpoint}"`);
    host = match[1]!;
    port = match[2] === undefined ? 50000 : Number(match[2]);
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TalosClientError("INVALID_ARGUMENT", `invalid port in endpoint "${endpoint}"`);
  }
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, address };
}

const CONNECT_FAILURE =
  /no connection established|failed to connect|ECONNREFUSED|connect E|Connection refused/i;

/** Failures below TLS: the connection was never established. */
const NOT_TLS =
  /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Connection refused|connection error: desc =/i;

function isConnectFailure(error: unknown): boolean {
  const e = error as { code?: number; details?: string; cause?: { code?: number; details?: string } };
  const source = e.cause ?? e;
  return source.code === grpc.status.UNAVAILABLE && CONNECT_FAILURE.test(String(source.details ?? ""));
}

/** Identity check and trust settings of one endpoint's TLS connections. */
interface EndpointTls {
  context: SecureContext;
  /** false in insecure mode without pins (maintenance: any server certificate). */
  rejectUnauthorized: boolean;
  /** Replaces the default host/IP check (SPKI pins). */
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
  /** Whether a client certificate is presented (mutual TLS). */
  clientCertificate: boolean;
}

/** What the last connection attempt to an endpoint learned about TLS. */
interface ConnectionRecord {
  /** A TLS alert from the node refusing the client certificate. */
  refused?: Error & { code?: string };
  /** The node closed the connection after the handshake without sending a byte (client cert presented). */
  closedAfterHandshake?: boolean;
}

/**
 * grpc-js channel credentials with our own TLS connection path. grpc-js always passes the endpoint host as
 * the TLS server name, and Node deprecates (DEP0123) an IP address there (RFC 6066 forbids IP SNI). Here an IP
 * endpoint gets no SNI at all while the certificate is still verified against the IP (Node checks the host
 * when no server name is set), and TLS errors that grpc-js drops (an alert arriving after the TLS 1.3
 * handshake) are recorded for the error mapping.
 */
class EndpointCredentials extends grpc.ChannelCredentials {
  constructor(
    private readonly endpoint: Endpoint,
    private readonly tls: EndpointTls,
    private readonly onAttempt: (record: ConnectionRecord) => void,
  ) {
    super();
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(
    _target: grpc.experimental.GrpcUri,
    options: grpc.ChannelOptions,
    callCredentials?: grpc.CallCredentials,
  ): grpc.experimental.SecureConnector {
    const credentials = callCredentials ?? grpc.CallCredentials.createEmpty();
    const override = options["grpc.ssl_target_name_override"];
    const name = typeof override === "string" && override !== "" ? override : this.endpoint.host;
    const tls = this.tls;
    const connectOptions: ConnectionOptions = {
      secureContext: tls.context,
      ALPNProtocols: ["h2"],
      // Node verifies against `servername`, else `host`: an IP endpoint is checked against the IP SANs.
      host: name,
      ...(isIP(name) === 0 ? { servername: name } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.checkServerIdentity === undefined ? {} : { checkServerIdentity: tls.checkServerIdentity }),
    };
    const onAttempt = this.onAttempt;
    return {
      connect(socket) {
        const record: ConnectionRecord = {};
        onAttempt(record);
        return new Promise((resolve, reject) => {
          const secure = tlsConnect({ ...connectOptions, socket }, () => {
            if (tls.rejectUnauthorized && !secure.authorized) {
              reject(secure.authorizationError);
              return;
            }
            if (!tls.clientCertificate) {
              resolve({ socket: secure, secure: true });
              return;
            }
            // With a client certificate, the node's verdict on it comes after our side of the handshake
            // (always in TLS 1.3): its first HTTP/2 bytes (SETTINGS), an alert (Go servers such as apid),
            // or the connection closed without a byte (Node servers). Wait for the first of them without
            // consuming anything (the HTTP/2 session picks up buffered bytes); once HTTP/2 owns the socket
            // an alert is reported as a plain disconnect. A node that stays silent is handed over later.
            const settle = (closed: boolean): void => {
              clearTimeout(timer);
              secure.off("readable", onReadable);
              secure.off("close", onClose);
              if (closed) record.closedAfterHandshake = true;
              resolve({ socket: secure, secure: true });
            };
            // 'readable' with nothing buffered is the end of the stream.
            const onReadable = (): void => settle(secure.readableLength === 0);
            const onClose = (): void => settle(true);
            const timer = setTimeout(() => settle(false), VERDICT_WAIT_MS);
            secure.once("readable", onReadable);
            secure.once("close", onClose);
          });
          secure.on("error", (error: Error & { code?: string }) => {
            if (tls.clientCertificate && isClientCertificateAlert(error)) record.refused ??= error;
            reject(error);
          });
        });
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => credentials,
      destroy: () => undefined,
    };
  }
}

/** How long a mutual-TLS connection waits for the node's verdict on the client certificate before handing over. */
const VERDICT_WAIT_MS = 10_000;

/** Alerts a server sends about a certificate (names as in Node's `ERR_SSL_*_ALERT_<name>` codes). */
const CERTIFICATE_ALERTS = new Set([
  "BAD_CERTIFICATE",
  "UNSUPPORTED_CERTIFICATE",
  "CERTIFICATE_REVOKED",
  "CERTIFICATE_EXPIRED",
  "CERTIFICATE_UNKNOWN",
  "UNKNOWN_CA",
  "ACCESS_DENIED",
  "CERTIFICATE_REQUIRED",
]);

/**
 * True for a TLS alert received from the server about a certificate. The server only ever judges the
 * client certificate (the client judges the server's), so such an alert means the node refused ours.
 * OpenSSL 3 names them `ERR_SSL_SSLV3_ALERT_*`, `ERR_SSL_TLSV1_ALERT_*`, `ERR_SSL_TLSV13_ALERT_*` or
 * `ERR_SSL_SSL/TLS_ALERT_*`.
 */
function isClientCertificateAlert(error: { code?: string }): boolean {
  const match = typeof error.code === "string" ? /^ERR_SSL_.*_ALERT_([A-Z_]+)$/.exec(error.code) : null;
  return match !== null && CERTIFICATE_ALERTS.has(match[1]!);
}

function alertName(code: string): string {
  return code
    .replace(/^ERR_SSL_.*_ALERT_/, "")
    .toLowerCase()
    .replace(/_/g, " ");
}

/**
 * The default transport: one grpc-js generic client per endpoint, round robin across endpoints with
 * failover to the next endpoint when a connection cannot be established, protobuf-es serializers,
 * 32 MiB receive limit, keepalive, deadlines and AbortSignal cancellation.
 * @throws TalosClientError `INVALID_ARGUMENT`, `INVALID_TALOSCONFIG` (unusable key material)
 */
export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  if (options.endpoints.length === 0) {
    throw new TalosClientError("INVALID_ARGUMENT", "at least one endpoint is required");
  }
  const endpoints = options.endpoints.map(parseEndpoint);
  const maxBytes = options.maxReceiveMessageBytes ?? 32 * 1024 * 1024;
  const channelOptions: grpc.ChannelOptions = {
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": maxBytes,
    // Go gRPC servers (apid) answer pings more frequent than every 5 minutes on a quiet stream with
    // GOAWAY too_many_pings, so the default stays above that.
    "grpc.keepalive_time_ms": options.keepaliveMs ?? 330_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.enable_retries": 0,
    ...options.channelOptions,
  };
  let baseTls: EndpointTls;
  const tls = options.tls;
  if (tls.mode === "mtls") {
    let key: string;
    try {
      key = normalizePrivateKeyPem(tls.key);
    } catch (cause) {
      throw new TalosClientError("INVALID_TALOSCONFIG", "the client private key cannot be loaded", { cause });
    }
    let context: SecureContext;
    try {
      // Without a CA the system roots verify the server (a talosconfig may omit `ca`, as talosctl allows).
      context = createSecureContext({ ...(tls.ca === undefined ? {} : { ca: tls.ca }), cert: tls.cert, key });
    } catch (cause) {
      throw new TalosClientError(
        "INVALID_TALOSCONFIG",
        "the CA, client certificate or key cannot be loaded (does the key match the certificate?)",
        { cause },
      );
    }
    baseTls = { context, rejectUnauthorized: true, clientCertificate: true };
  } else {
    baseTls = { context: createSecureContext({}), rejectUnauthorized: false, clientCertificate: false };
  }
  const pins =
    tls.mode === "insecure" && tls.spkiPins !== undefined && tls.spkiPins.length > 0
      ? tls.spkiPins
      : undefined;
  const clients = new Map<string, grpc.Client>();
  const pinChecks = new Map<string, Promise<void>>();
  const pinnedTls = new Map<string, EndpointTls>();
  /** The latest connection attempt per endpoint. */
  const attempts = new Map<string, ConnectionRecord>();
  let next = 0;
  let closed = false;

  function clientFor(endpoint: Endpoint): grpc.Client {
    let client = clients.get(endpoint.address);
    if (client === undefined) {
      const credentials = new EndpointCredentials(
        endpoint,
        pinnedTls.get(endpoint.address) ?? baseTls,
        (record) => attempts.set(endpoint.address, record),
      );
      client = new grpc.Client(endpoint.address, credentials, channelOptions);
      clients.set(endpoint.address, client);
    }
    return client;
  }

  function pinMismatch(endpoint: Endpoint, fingerprint: string): TalosClientError {
    return new TalosClientError(
      "TLS_ERROR",
      `the server certificate of ${endpoint.address} matches none of the pinned SPKI fingerprints`,
      { details: { endpoint: endpoint.address, fingerprint } },
    );
  }

  /**
   * With pins, a probe fetches the endpoint's certificate and checks its SPKI; the channel then trusts that
   * very certificate (partial chain) and re-checks the SPKI on every handshake, so the pin holds for the
   * connections the calls actually use.
   */
  function checkPins(endpoint: Endpoint): Promise<void> {
    if (pins === undefined) return Promise.resolve();
    let check = pinChecks.get(endpoint.address);
    if (check === undefined) {
      check = new Promise<void>((resolve, reject) => {
        const socket = tlsConnect({
          host: endpoint.host,
          port: endpoint.port,
          rejectUnauthorized: false,
          ALPNProtocols: ["h2"],
          ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
        });
        socket.setTimeout(10_000, () => socket.destroy(new Error("TLS probe timed out")));
        socket.once("secureConnect", () => {
          const raw = socket.getPeerCertificate().raw;
          socket.end();
          const fingerprint = raw === undefined ? "" : spkiFingerprint(raw);
          if (raw === undefined || !pins.includes(fingerprint)) {
            reject(pinMismatch(endpoint, fingerprint));
            return;
          }
          pinnedTls.set(endpoint.address, {
            context: createSecureContext({ ca: derToPem(raw, "CERTIFICATE"), allowPartialTrustChain: true }),
            rejectUnauthorized: true,
            clientCertificate: false,
            checkServerIdentity: (_host, cert) => {
              const presented = cert.raw === undefined ? "" : spkiFingerprint(cert.raw);
              return pins.includes(presented) ? undefined : pinMismatch(endpoint, presented);
            },
          });
          resolve();
        });
        socket.once("error", (cause) =>
          reject(
            new TalosClientError("UNAVAILABLE", `cannot reach ${endpoint.address}: ${cause.message}`, {
              cause,
              details: { endpoint: endpoint.address },
            }),
          ),
        );
      });
      check.catch(() => pinChecks.delete(endpoint.address));
      pinChecks.set(endpoint.address, check);
    }
    return check;
  }

  /**
   * Maps a failed call; when the latest connection attempt to the endpoint ended with the node refusing the
   * client certificate, the UNAVAILABLE grpc-js reports becomes TLS_ERROR saying what to check.
   */
  function callError(error: unknown, method: string, endpoint: string): TalosClientError {
    const mapped = fromGrpcError(error, { method, endpoint });
    if (mapped.code !== "UNAVAILABLE" && mapped.code !== "TLS_ERROR") return mapped;
    // A later attempt that failed before TLS (node down) leaves the record of the refused one behind.
    const text = String((error as { details?: unknown })?.details ?? "");
    if (NOT_TLS.test(text)) return mapped;
    const attempt = attempts.get(endpoint);
    const alert = attempt?.refused?.code;
    if (alert === undefined && attempt?.closedAfterHandshake !== true) return mapped;
    const what =
      alert === undefined
        ? `the node at ${endpoint} closed the connection right after the TLS handshake without a reply, ` +
          "which is how it refuses a client certificate"
        : `the node at ${endpoint} refused the client certificate (TLS alert "${alertName(alert)}")`;
    return new TalosClientError(
      "TLS_ERROR",
      `${what}: check that the talosconfig client certificate (crt) is signed by the cluster's OS CA, ` +
        `has not expired, and carries a Talos role such as os:admin (${method})`,
      {
        cause: error,
        details: {
          ...mapped.details,
          ...(alert === undefined ? { closedAfterHandshake: true } : { tlsAlert: alert }),
        },
      },
    );
  }

  function pick(): Endpoint[] {
    if (closed) throw new TalosClientError("CANCELLED", "the client is closed");
    const start = next++ % endpoints.length;
    return [...endpoints.slice(start), ...endpoints.slice(0, start)];
  }

  function metadataOf(options: TransportCallOptions | undefined): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [key, value] of Object.entries(options?.metadata ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) md.add(key, v);
    }
    return md;
  }

  function callOptionsOf(options: TransportCallOptions | undefined): grpc.CallOptions {
    return options?.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
  }

  function abortedError(method: string): TalosClientError {
    return new TalosClientError("CANCELLED", `${method} was cancelled`, { details: { method } });
  }

  async function withFailover<T>(
    method: string,
    signal: AbortSignal | undefined,
    attempt: (client: grpc.Client, endpoint: Endpoint) => Promise<T>,
  ): Promise<T> {
    const order = pick();
    let lastError: unknown;
    for (const endpoint of order) {
      if (signal?.aborted) throw abortedError(method);
      try {
        await checkPins(endpoint);
        return await attempt(clientFor(endpoint), endpoint);
      } catch (error) {
        lastError = error;
        if (!isConnectFailure(error)) break;
      }
    }
    throw lastError;
  }

  return {
    endpoints: endpoints.map((e) => e.address),

    unary(method, request, options) {
      const path = methodPath(method);
      const serialize = serializerFor(method.input);
      const deserialize = deserializerFor(method.output);
      return withFailover(path, options?.signal, (client, endpoint) => {
        return new Promise((resolve, reject) => {
          const call = client.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            request,
            metadataOf(options),
            callOptionsOf(options),
            (error, response) => {
              options?.signal?.removeEventListener("abort", onAbort);
              if (error !== null) reject(callError(error, path, endpoint.address));
              else resolve(response!);
            },
          );
          const onAbort = (): void => call.cancel();
          options?.signal?.addEventListener("abort", onAbort, { once: true });
        });
      });
    },

    serverStream(method, request, options) {
      const path = methodPath(method);
      const serialize = serializerFor(method.input);
      const deserialize = deserializerFor(method.output);
      return {
        [Symbol.asyncIterator]: () => {
          let stream: grpc.ClientReadableStream<MessageShape<typeof method.output>> | undefined;
          let endpointAddress = "";
          let iterator: AsyncIterator<MessageShape<typeof method.output>> | undefined;
          const onAbort = (): void => stream?.cancel();
          const open = async (): Promise<AsyncIterator<MessageShape<typeof method.output>>> => {
            const endpoint = pick()[0]!;
            await checkPins(endpoint);
            endpointAddress = endpoint.address;
            if (options?.signal?.aborted) throw abortedError(path);
            stream = clientFor(endpoint).makeServerStreamRequest(
              path,
              serialize,
              deserialize,
              request,
              metadataOf(options),
              callOptionsOf(options),
            );
            options?.signal?.addEventListener("abort", onAbort, { once: true });
            return stream[Symbol.asyncIterator]() as AsyncIterator<MessageShape<typeof method.output>>;
          };
          const cleanup = (): void => options?.signal?.removeEventListener("abort", onAbort);
          return {
            async next() {
              try {
                iterator ??= await open();
                const result = await iterator.next();
                if (result.done === true) cleanup();
                return result;
              } catch (error) {
                cleanup();
                throw callError(error, path, endpointAddress);
              }
            },
            async return() {
              cleanup();
              stream?.cancel();
              stream?.destroy();
              return { done: true, value: undefined };
            },
          };
        },
      };
    },

    clientStream(method, requests, options) {
      const path = methodPath(method);
      const serialize = serializerFor(method.input);
      const deserialize = deserializerFor(method.output);
      const endpoint = pick()[0]!;
      return checkPins(endpoint).then(
        () =>
          new Promise((resolve, reject) => {
            const call = clientFor(endpoint).makeClientStreamRequest(
              path,
              serialize,
              deserialize,
              metadataOf(options),
              callOptionsOf(options),
              (error, response) => {
                options?.signal?.removeEventListener("abort", onAbort);
                if (error !== null) reject(callError(error, path, endpoint.address));
                else resolve(response!);
              },
            );
            const onAbort = (): void => call.cancel();
            options?.signal?.addEventListener("abort", onAbort, { once: true });
            (async () => {
              for await (const message of requests) {
                if (!call.write(message)) await new Promise((r) => call.once("drain", r));
              }
              call.end();
            })().catch((error: unknown) => {
              call.cancel();
              reject(TalosClientError.from(error));
            });
          }),
      );
    },

    close() {
      closed = true;
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
