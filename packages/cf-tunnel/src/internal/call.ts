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

const SHARED = Symbol("cf-tunnel.retrier");

/** `options` carrying `retrier`, so that the operations a library call runs share one wait budget. */
export function sharingRetrier<T extends object>(options: T, retrier: Retrier): T {
  return { ...options, [SHARED]: retrier };
}

/** Default overall wait budget: one full 5-minute Cloudflare block plus a minute of backoff. */
export const DEFAULT_RETRY_BUDGET_MS = 360_000;

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.ceil(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Builds the call wrapper shared by every operation of one library call: retries 429, 5xx and lost
 * connections, translates errors.
 *
 * The SDK's own retry (cloudflare-typescript src/client.ts `shouldRetry`/`retryRequest`) is switched off
 * (`maxRetries: 0`) because it differs where it matters here: it retries 409 (a duplicate create is not
 * transient), it cannot look up whether a lost create took effect before sending it again, its sleep
 * ignores the abort signal, and it has no overall budget and reports nothing while it waits. What it
 * does right is kept: `retry-after-ms`, then `retry-after` (seconds or an HTTP date) honoured without a
 * cap, `x-should-retry` obeyed, exponential backoff from 0.5 s capped at 8 s with up to 25 % jitter.
 *
 * Waits are shared: while one call waits (Cloudflare blocks a token for 5 minutes after 1,200 requests in
 * 5 minutes), every other call of the same operation waits on the same timer instead of adding requests,
 * and one `retry` event is emitted per such burst. The sum of the bursts stays within `retry.budgetMs`;
 * a wait that would exceed it fails at once with the remaining budget in the message.
 */
export function createRetrier(options: CommonOptions): Retrier {
  const shared = (options as { [SHARED]?: Retrier })[SHARED];
  if (shared) return shared;
  const retry: RetryOptions = options.retry ?? {};
  const attempts = Math.max(1, (retry.retries ?? 6) + 1);
  const base = retry.baseDelayMs ?? 500;
  const cap = retry.maxDelayMs ?? 8_000;
  const budget = retry.budgetMs ?? DEFAULT_RETRY_BUDGET_MS;
  const random = retry.random ?? Math.random;
  const sleep = retry.sleep ?? defaultSleep;
  const signal = options.signal;
  const emit = (event: ProgressEvent) => options.onProgress?.(event);
  let spent = 0;
  let gate: Promise<void> | undefined;

  /** Waits `delay` ms, or joins the wait already under way; throws when the budget would be exceeded. */
  async function wait(delay: number, describe: (left: number) => ProgressEvent, onOverBudget: () => never) {
    if (gate) {
      await gate;
      return;
    }
    if (spent + delay > budget) onOverBudget();
    spent += delay;
    emit(describe(budget - spent));
    const current = sleep(delay, signal).finally(() => {
      if (gate === current) gate = undefined;
    });
    gate = current;
    await current;
  }

  const retrier: Retrier = {
    signal,
    emit,
    async call<T>(spec: CallSpec<T>): Promise<T> {
      let mayHaveCommitted = false;
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw new CfTunnelError("ABORTED", `aborted while ${spec.what}`);
        try {
          // Another call is waiting out a rate limit: do not add requests meanwhile.
          if (gate) await gate;
        } catch (sleepError) {
          throw new CfTunnelError("ABORTED", `aborted while waiting to retry ${spec.what}`, {
            cause: sleepError,
          });
        }
        if (mayHaveCommitted && spec.recover) {
          const recover = spec.recover;
          const found = await retrier.call<T | undefined>({
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
          const shouldRetry = api?.headers?.get("x-should-retry");
          const retryable =
            shouldRetry === "false"
              ? false
              : status === 429 || (status !== undefined && status >= 500) || isConnectionError(error);
          if (
            !retryable &&
            spec.recover &&
            spec.alreadyExistsCodes?.some((c) => api?.errors.some((e) => e.code === c))
          ) {
            const found = await spec.recover();
            if (found !== undefined) return found;
          }
          if (!retryable || attempt >= attempts) throw translate(error, spec);
          mayHaveCommitted = mayHaveCommitted || status !== 429;
          const hinted = retryAfterMs(api?.headers);
          // Retry-After is a floor: never earlier, up to 10 % later so that waiting clients spread out.
          const delay = Math.round(
            hinted !== undefined
              ? hinted * (1 + 0.1 * random())
              : Math.min(cap, base * 2 ** (attempt - 1)) * (1 - 0.25 * random()),
          );
          const cause =
            status === undefined ? "connection error" : status === 429 ? "rate limited (429)" : `${status}`;
          try {
            await wait(
              delay,
              (left) => ({
                type: "retry",
                message: `${cause} while ${spec.what}; waiting ${seconds(delay)} before retrying (attempt ${attempt + 1} of ${attempts}, ${seconds(left)} of the retry budget left)`,
                status: status ?? null,
                attempt: attempt + 1,
                delayMs: delay,
                budgetLeftMs: left,
              }),
              () => {
                const translated = translate(error, spec);
                throw new CfTunnelError(
                  translated.code,
                  `${translated.rawMessage}; Cloudflare asks to wait ${seconds(delay)}, more than the ${seconds(budget - spent)} left of the retry budget (retry.budgetMs)`,
                  {
                    cause: error,
                    details: { ...translated.details, delayMs: delay, budgetLeftMs: budget - spent },
                  },
                );
              },
            );
          } catch (sleepError) {
            if (sleepError instanceof CfTunnelError) throw sleepError;
            throw new CfTunnelError("ABORTED", `aborted while waiting to retry ${spec.what}`, {
              cause: sleepError,
            });
          }
        }
      }
    },
  };
  return retrier;
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
