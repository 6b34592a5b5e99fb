import { ArgoBootstrapError } from "../errors.js";

/** A progress event: a plain object with a type and a human message. */
export interface ProgressEvent {
  type: string;
  message: string;
  [key: string]: unknown;
}

/** Waits `ms` milliseconds (injectable for tests); rejects when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export function abortError(signal: AbortSignal | undefined): ArgoBootstrapError {
  return new ArgoBootstrapError("ABORTED", "the operation was aborted", {
    cause: signal?.reason,
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is a plain object, else an empty one (for reading optional nested fields). */
export function rec(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Formats milliseconds as a Go duration (`90s`, `10m0s` style is not needed: `600s` is valid too). */
export function goDuration(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** Last `lines` non-empty lines of a text. */
export function tail(text: string, lines = 20): string {
  const all = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  return all.slice(-lines).join("\n");
}

/** True when `version` names exactly one version: no `latest`, `*`, ranges, wildcards or empty. */
export function isPinnedVersion(version: string | undefined): boolean {
  if (version === undefined) return false;
  return (
    /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version.trim()) &&
    version === version.trim()
  );
}
