import { TalosConfigError } from "../errors.js";

/** A decoded YAML mapping. */
export type PlainObject = Record<string, unknown>;

/** True for a non-null, non-array object (a decoded YAML mapping). */
export function isPlainObject<T>(value: T): value is T & PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep copy of plain YAML data (mappings, sequences, scalars). */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneValue(item)) as T;
  if (isPlainObject(value)) {
    const out: PlainObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = cloneValue(item);
    return out as T;
  }
  return value;
}

/** Structural equality of plain YAML data (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "list";
  if (isPlainObject(value)) return "mapping";
  return typeof value;
}

export function formatPath(path: readonly string[]): string {
  return path.length === 0 ? "(document root)" : path.join(".");
}

export function patchError(message: string, details: Record<string, unknown> = {}): TalosConfigError {
  return new TalosConfigError("INVALID_PATCH", message, { details });
}
