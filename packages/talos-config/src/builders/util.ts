import { TalosConfigError, type TalosConfigErrorCode } from "../errors.js";
import type { ConfigDocument } from "../model/document.js";
import { isPlainObject } from "../patch/values.js";

/** Throws a TalosConfigError whose message starts with the offending input field. */
export function fail(field: string, message: string, code: TalosConfigErrorCode = "INVALID_INPUT"): never {
  throw new TalosConfigError(code, `${field}: ${message}`, { details: { field } });
}

/** Asserts a non-empty string without line breaks; never echoes the value when `secret`. */
export function requireString(value: unknown, field: string, secret = false): string {
  if (typeof value !== "string" || value.trim() === "") fail(field, "must be a non-empty string");
  if (/[\r\n]/.test(value))
    fail(
      field,
      secret ? "must not contain line breaks" : `${JSON.stringify(value)} must not contain line breaks`,
    );
  return value;
}

/** Asserts an integer in [min, max]. */
export function requireInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Asserts an array (possibly empty). */
export function requireArray<T>(value: unknown, field: string): T[] {
  if (!Array.isArray(value)) fail(field, "must be a list");
  return value as T[];
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Asserts an RFC 1123 host name (lower case labels). */
export function requireHostname(value: unknown, field: string): string {
  const text = requireString(value, field);
  if (!HOSTNAME_RE.test(text)) fail(field, `${JSON.stringify(text)} is not a valid lower-case DNS host name`);
  return text;
}

/** Deep-merges legacy fragments: maps per key, lists concatenated, scalars from `b`. */
export function mergeFragments(a: ConfigDocument, b: ConfigDocument): ConfigDocument {
  const out: ConfigDocument = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const current = out[key];
    if (Array.isArray(current) && Array.isArray(value)) out[key] = [...current, ...value];
    else if (isPlainObject(current) && isPlainObject(value)) out[key] = mergeFragments(current, value);
    else out[key] = value;
  }
  return out;
}

/** A legacy v1alpha1 fragment. */
export function v1alpha1(body: Omit<ConfigDocument, "version">): ConfigDocument {
  return { version: "v1alpha1", ...body };
}

/** A multi-document header plus body. */
export function multiDoc(kind: string, body: ConfigDocument = {}): ConfigDocument {
  return { apiVersion: "v1alpha1", kind, ...body };
}
