import { mergeRuleFor } from "./rules.js";
import {
  cloneValue,
  deepEqual,
  formatPath,
  isPlainObject,
  type PlainObject,
  patchError,
  typeName,
} from "./values.js";

function isZeroScalar(value: unknown): boolean {
  return value === "" || value === 0;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

/**
 * Merges `right` (a patch value) into `left` the way Talos' reflection merger does and returns the
 * result (inputs are not modified). `path` is the field path with `*` for list elements.
 */
export function mergeValue(kind: string, path: string[], left: unknown, right: unknown): unknown {
  if (right === null || right === undefined) return left;
  const rule = mergeRuleFor(kind, path);
  if (rule.type === "replace") return isEmpty(right) ? left : cloneValue(right);
  if (left === null || left === undefined) {
    return isZeroScalar(right) ? left : cloneValue(right);
  }
  if (typeName(left) !== typeName(right)) {
    throw patchError(`cannot merge a ${typeName(right)} into the ${typeName(left)} at ${formatPath(path)}`, {
      path: formatPath(path),
    });
  }
  if (rule.type === "args" && isPlainObject(left) && isPlainObject(right)) {
    const out = cloneValue(left);
    for (const [key, value] of Object.entries(right)) out[key] = cloneValue(value);
    return out;
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    if (rule.type === "byKey") return mergeByKey(kind, path, left, right, rule.keys);
    return [...left.map((item) => cloneValue(item)), ...right.map((item) => cloneValue(item))];
  }
  if (isPlainObject(left) && isPlainObject(right)) return mergeMapping(kind, path, left, right);
  if (typeof right === "boolean") return right;
  return isZeroScalar(right) ? left : right;
}

function mergeMapping(kind: string, path: string[], left: PlainObject, right: PlainObject): PlainObject {
  const out = cloneValue(left);
  for (const [key, value] of Object.entries(right)) {
    const merged = mergeValue(kind, [...path, key], out[key], value);
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}

function mergeByKey(
  kind: string,
  path: string[],
  left: unknown[],
  right: unknown[],
  keys: readonly string[],
): unknown[] {
  const out = left.map((item) => cloneValue(item));
  for (const element of right) {
    const index = isPlainObject(element) ? findByKey(out, element, keys) : -1;
    if (index >= 0) out[index] = mergeValue(kind, [...path, "*"], out[index], element);
    else out.push(cloneValue(element));
  }
  return out;
}

function findByKey(list: unknown[], element: PlainObject, keys: readonly string[]): number {
  for (const key of keys) {
    const wanted = element[key];
    if (wanted === undefined || wanted === null || wanted === "") continue;
    return list.findIndex((item) => isPlainObject(item) && deepEqual(item[key], wanted));
  }
  return -1;
}
