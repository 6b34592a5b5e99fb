import { CfTunnelError } from "../errors.js";
import type { CommonOptions, ProgressEvent, RetryOptions } from "../types.js";

/** The token permission each kind of call needs (Cloudflare's names, old and new). */
export const PERMISSIONS = {
  zoneRead: "Zone Read",
  tunnelRead: "Cloudflare One Connector: cloudflared Read (formerly Cloudflare Tunnel Read)",
  tunnelWrite: "Cloudflare One Connector: cloudflared Write (formerly Cloudflare Tunnel Write)",
  dnsRead: "DNS Read",
  dnsWrite: "DNS Write",
  accessRead: "Access: Apps and Policies Read",
  accessWrite: "Access: Apps and Policies Write",
} as const;

export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

interface ApiErrorLike {
  status: number | undefined;
  headers: Headers | undefined;
  errors: { code: number; message: string }[];
  name: string;
}

function asApiError(error: unknown): ApiErrorLike | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & Partial<ApiErrorLike>;
  if (!("status" in e) && !("errors" in e)) return undefined;
  return {
    status: typeof e.status === "number" ? e.status : undefined,
    headers: e.headers instanceof Headers ? e.headers : undefined,
    errors: Array.isArray(e.errors) ? e.errors : [],
    name: e.name,
  };
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof Error && (error.name === "APIUserAbortError" || error.name === "AbortError");
}

const CONNECTION_ERRORS = new Set(["APIConnectionError", "APIConnectionTimeoutError"]);

function isConnectionError(error: unknown): boolean {
  // the SDK's error classes keep the default `name` ("Error"): their class is what tells them apart
  return (
    error instanceof Error &&
    (CONNECTION_ERRORS.has(error.name) || CONNECTION_ERRORS.has(error.constructor.name))
  );
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Sleeps `ms` milliseconds, or rejects when `signal` aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Describes one API call for retries and error messages. */
export interface CallSpec<T> {
  /** What is being done, for messages: "listing DNS records of example.com". */
  what: string;
  permission: Permission;
  run: (requestOptions: { maxRetries: 0; signal?: AbortSignal }) => Promise<T>;
  /**
   * Called before retrying after a failure that may have been committed (5xx, lost connection): returns the
   * result when the first attempt did take effect, making creates idempotent.
   */
  recover?: () => Promise<T | undefined>;
  /** Treat a 404 as success with this value (deletes). */
  notFoundIsSuccess?: T;
  /**
   * Cloudflare codes meaning "already exists" (81053, 1013...): on such an answer `recover` is asked whether
   * the wanted result is in place (ours), and its value is returned instead of an error.
   */
  alreadyExistsCodes?: number[];
}

/** Resolved retry settings. */
export interface Retrier {
  call<T>(spec: CallSpec<T>): Promise<T>;
  emit(event: ProgressEvent): void;
  signal: AbortSignal | undefined;
}

/** Builds the call wrapper shared by every operation: retries 429/5xx, translates errors. */
export function createRetrier(options: CommonOptions): Retrier {
  const retry: RetryOptions = options.retry ?? {};
  const attempts = Math.max(1, (retry.retries ?? 6) + 1);
  const base = retry.baseDelayMs ?? 500;
  const cap = retry.maxDelayMs ?? 8_000;
  const sleep = retry.sleep ?? defaultSleep;
  const signal = options.signal;
  const emit = (event: ProgressEvent) => options.onProgress?.(event);
  return {
    signal,
    emit,
    async call<T>(spec: CallSpec<T>): Promise<T> {
      let mayHaveCommitted = false;
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw new CfTunnelError("ABORTED", `aborted while ${spec.what}`);
        if (mayHaveCommitted && spec.recover) {
          const recover = spec.recover;
          const found = await createRetrier({ ...options, retry: { ...retry, retries: 0 } }).call<
            T | undefined
          >({
            what: `checking whether ${spec.what} took effect`,
            permission: spec.permission,
            run: () => recover(),
          });
          if (found !== undefined) return found;
        }
        try {
          const requestOptions: { maxRetries: 0; signal?: AbortSignal } = { maxRetries: 0 };
          if (signal) requestOptions.signal = signal;
          return await spec.run(requestOptions);
        } catch (error) {
          if (isAbort(error, signal)) {
            throw new CfTunnelError("ABORTED", `aborted while ${spec.what}`, { cause: error });
          }
          const api = asApiError(error);
          const status = api?.status;
          if (status === 404 && "notFoundIsSuccess" in spec) return spec.notFoundIsSuccess as T;
          const retryable =
            status === 429 || (status !== undefined && status >= 500) || isConnectionError(error);
          if (
            !retryable &&
            spec.recover &&
            spec.alreadyExistsCodes?.some((c) => api?.errors.some((e) => e.code === c))
          ) {
            const found = await spec.recover();
            if (found !== undefined) return found;
          }
          if (!retryable || attempt >= attempts) throw translate(error, spec);
          mayHaveCommitted = status !== 429;
          const backoff = Math.min(cap, base * 2 ** (attempt - 1));
          const hinted = status === 429 ? retryAfterMs(api?.headers) : undefined;
          const delay = Math.min(cap, hinted ?? backoff);
          emit({
            type: "retry",
            message: `${status ?? "connection error"} while ${spec.what}; retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts})`,
            status: status ?? null,
            attempt: attempt + 1,
            delayMs: delay,
          });
          try {
            await sleep(delay, signal);
          } catch (sleepError) {
            throw new CfTunnelError("ABORTED", `aborted while waiting to retry ${spec.what}`, {
              cause: sleepError,
            });
          }
        }
      }
    },
  };
}

/** Translates an SDK error into a {@link CfTunnelError} naming the missing permission for 401/403. */
export function translate(error: unknown, spec: { what: string; permission: Permission }): CfTunnelError {
  const api = asApiError(error);
  const status = api?.status;
  const cf = api?.errors.map((e) => ({ code: e.code, message: e.message })) ?? [];
  const cfText = cf.length > 0 ? `: ${cf.map((e) => `${e.code} ${e.message}`).join("; ")}` : "";
  const details = { status: status ?? null, errors: cf, permission: spec.permission };
  if (status === 401) {
    return new CfTunnelError(
      "UNAUTHORIZED",
      `Cloudflare rejected the API token (401) while ${spec.what}; use a valid token that has "${spec.permission}"`,
      { cause: error, details },
    );
  }
  if (status === 403) {
    return new CfTunnelError(
      "UNAUTHORIZED",
      `the API token lacks a permission (403) while ${spec.what}: it needs "${spec.permission}"`,
      { cause: error, details },
    );
  }
  if (status === 404) {
    return new CfTunnelError("NOT_FOUND", `not found (404) while ${spec.what}${cfText}`, {
      cause: error,
      details,
    });
  }
  if (status === 429) {
    return new CfTunnelError("RATE_LIMITED", `rate limited (429) while ${spec.what}, retries exhausted`, {
      cause: error,
      details,
    });
  }
  if (status === 409) {
    return new CfTunnelError("CONFLICT", `conflict (409) while ${spec.what}${cfText}`, {
      cause: error,
      details,
    });
  }
  if (status !== undefined) {
    return new CfTunnelError("API_ERROR", `Cloudflare answered ${status} while ${spec.what}${cfText}`, {
      cause: error,
      details,
    });
  }
  if (isConnectionError(error)) {
    return new CfTunnelError("API_ERROR", `could not reach Cloudflare while ${spec.what}`, {
      cause: error,
      details,
    });
  }
  return CfTunnelError.from(error);
}
