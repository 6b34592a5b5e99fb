import { cloneValue, deepEqual, isPlainObject, patchError } from "./values.js";

/** One RFC 6902 JSON Patch operation. */
export type JsonPatchOperation =
  | { readonly op: "add" | "replace" | "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "move" | "copy"; readonly from: string; readonly path: string };

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** True when `value` is a list of JSON Patch operations (what Talos tries after a strategic patch fails to load). */
export function isJsonPatch(value: unknown): value is JsonPatchOperation[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((op) => isPlainObject(op) && typeof op.op === "string" && typeof op.path === "string")
  );
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw patchError(`JSON pointer "${pointer}" must start with "/"`, { path: pointer });
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function listIndex(list: unknown[], token: string, pointer: string, allowEnd: boolean): number {
  if (token === "-" && allowEnd) return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw patchError(`invalid list index in "${pointer}"`, { path: pointer });
  const index = Number(token);
  if (index > list.length || (!allowEnd && index === list.length)) {
    throw patchError(`list index out of range in "${pointer}"`, { path: pointer });
  }
  return index;
}

function resolveParent(root: unknown, pointer: string): { parent: unknown; token: string } {
  const tokens = parsePointer(pointer);
  const token = tokens.pop();
  if (token === undefined)
    throw patchError("the document root cannot be the target of this operation", { path: pointer });
  let node = root;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[listIndex(node, t, pointer, false)];
    else if (isPlainObject(node) && Object.hasOwn(node, t)) node = node[t];
    else throw patchError(`path "${pointer}" does not exist`, { path: pointer });
  }
  return { parent: node, token };
}

function get(root: unknown, pointer: string): unknown {
  let node = root;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[listIndex(node, t, pointer, false)];
    else if (isPlainObject(node) && Object.hasOwn(node, t)) node = node[t];
    else throw patchError(`path "${pointer}" does not exist`, { path: pointer });
  }
  return node;
}

function add(root: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const { parent, token } = resolveParent(root, pointer);
  if (Array.isArray(parent)) parent.splice(listIndex(parent, token, pointer, true), 0, value);
  else if (isPlainObject(parent)) parent[token] = value;
  else throw patchError(`path "${pointer}" does not exist`, { path: pointer });
  return root;
}

function remove(root: unknown, pointer: string): unknown {
  const { parent, token } = resolveParent(root, pointer);
  if (Array.isArray(parent)) parent.splice(listIndex(parent, token, pointer, false), 1);
  else if (isPlainObject(parent) && Object.hasOwn(parent, token)) delete parent[token];
  else throw patchError(`path "${pointer}" does not exist`, { path: pointer });
  return root;
}

function replace(root: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const { parent, token } = resolveParent(root, pointer);
  if (Array.isArray(parent)) parent[listIndex(parent, token, pointer, false)] = value;
  else if (isPlainObject(parent) && Object.hasOwn(parent, token)) parent[token] = value;
  else throw patchError(`path "${pointer}" does not exist`, { path: pointer });
  return root;
}

/**
 * Applies RFC 6902 operations to one document and returns the patched copy.
 *
 * @throws TalosConfigError `INVALID_PATCH` naming the failing operation's path.
 */
export function applyJsonPatch(document: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let root = cloneValue(document);
  for (const operation of operations) {
    const op = operation as { op: string; path: string; from?: unknown; value?: unknown };
    if (!OPS.has(op.op)) throw patchError(`unknown JSON patch operation "${op.op}"`, { path: op.path });
    switch (op.op) {
      case "add":
        root = add(root, op.path, cloneValue(op.value));
        break;
      case "remove":
        root = remove(root, op.path);
        break;
      case "replace":
        root = replace(root, op.path, cloneValue(op.value));
        break;
      case "move": {
        const from = String(op.from);
        const value = get(root, from);
        root = add(remove(root, from), op.path, value);
        break;
      }
      case "copy":
        root = add(root, op.path, cloneValue(get(root, String(op.from))));
        break;
      case "test":
        if (!deepEqual(get(root, op.path), op.value)) {
          throw patchError(`JSON patch test failed at "${op.path}"`, { path: op.path });
        }
        break;
    }
  }
  return root;
}
