import { status as GrpcStatus } from "@grpc/grpc-js";
import { isTalosClientError, TalosClientError, type TalosClientErrorCode } from "./errors.js";

const BY_GRPC: Record<number, TalosClientErrorCode> = {
  [GrpcStatus.CANCELLED]: "CANCELLED",
  [GrpcStatus.UNKNOWN]: "UNKNOWN",
  [GrpcStatus.INVALID_ARGUMENT]: "INVALID_ARGUMENT",
  [GrpcStatus.DEADLINE_EXCEEDED]: "DEADLINE_EXCEEDED",
  [GrpcStatus.NOT_FOUND]: "NOT_FOUND",
  [GrpcStatus.ALREADY_EXISTS]: "ALREADY_EXISTS",
  [GrpcStatus.PERMISSION_DENIED]: "PERMISSION_DENIED",
  [GrpcStatus.RESOURCE_EXHAUSTED]: "RESOURCE_EXHAUSTED",
  [GrpcStatus.FAILED_PRECONDITION]: "FAILED_PRECONDITION",
  [GrpcStatus.ABORTED]: "ABORTED",
  [GrpcStatus.OUT_OF_RANGE]: "INVALID_ARGUMENT",
  [GrpcStatus.UNIMPLEMENTED]: "UNIMPLEMENTED",
  [GrpcStatus.INTERNAL]: "INTERNAL",
  [GrpcStatus.UNAVAILABLE]: "UNAVAILABLE",
  [GrpcStatus.DATA_LOSS]: "INTERNAL",
  [GrpcStatus.UNAUTHENTICATED]: "UNAUTHENTICATED",
};

const TLS_HINT =
  /certificate|self[- ]signed|unable to verify|SSL|TLS|alert|handshake|ERR_TLS|unknown ca|bad certificate/i;

/**
 * Not our TLS verdict: the peer hung up during the handshake without an alert (a node going down), or
 * apid could not reach the target node it proxies to and relays grpc-go's dial error
 * (`connection error: desc = "transport: authentication handshake failed: ..."`).
 */
const NOT_TLS = /socket disconnected before secure TLS connection|connection error: desc =/i;

/**
 * Maps a gRPC status code (number) to a {@link TalosClientErrorCode}.
 */
export function codeFromGrpcStatus(code: number): TalosClientErrorCode {
  return BY_GRPC[code] ?? "UNKNOWN";
}

/** Translates a grpc-js error into a TalosClientError, keeping it as `cause`. */
export function fromGrpcError(error: unknown, context: Record<string, unknown> = {}): TalosClientError {
  if (isTalosClientError(error)) return error;
  const e = error as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof e?.code !== "number") return TalosClientError.from(error);
  const details = typeof e.details === "string" && e.details !== "" ? e.details : String(e.message ?? "");
  let code = codeFromGrpcStatus(e.code);
  if (code === "UNAVAILABLE" && TLS_HINT.test(details) && !NOT_TLS.test(details)) code = "TLS_ERROR";
  const where = typeof context.method === "string" ? ` (${context.method})` : "";
  return new TalosClientError(code, `${details}${where}`, {
    cause: error,
    details: { grpcCode: e.code, ...context },
  });
}
