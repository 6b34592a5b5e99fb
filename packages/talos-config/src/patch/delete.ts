import { type DocumentKey, documentKey } from "../model/document.js";
import { formatPath, isPlainObject, type PlainObject, patchError } from "./values.js";

/** One `$patch: delete` directive found in a patch document. */
export interface DeleteSelector {
  readonly doc: DocumentKey;
  /** Key path from the document root; empty = the whole document. */
  readonly path: readonly string[];
  /** For list elements: the element's first other key and its value, which select what to remove. */
  readonly match?: { readonly key: string; readonly value: string };
}

const DELETE = Symbol("delete");

function isDeleteMarker(node: PlainObject): boolean {
  return node.$patch === "delete";
}

/**
 * Splits a patch document into its delete directives and the remaining content to merge (`undefined`
 * when nothing is left), as Talos' decoder does: deletes are collected first and run before the merge.
 */
export function extractDeletes(document: PlainObject): {
  selectors: DeleteSelector[];
  rest: PlainObject | undefined;
} {
  const doc = structuredClone(document);
  const id = documentKey(doc);
  const hasKind = typeof doc.kind === "string" && doc.kind !== "";
  const hasApiVersion = typeof doc.apiVersion === "string" && doc.apiVersion !== "";
  const selectors: DeleteSelector[] = [];

  if (isDeleteMarker(doc)) {
    if (!hasKind || !hasApiVersion) {
      throw patchError(
        "$patch: delete at a document root needs apiVersion and kind (the v1alpha1 document cannot be deleted)",
        { document: id.kind },
      );
    }
    selectors.push({ doc: id, path: [] });
    return { selectors, rest: undefined };
  }
  const walk = (node: unknown, path: string[], inList: boolean): unknown => {
    if (isPlainObject(node)) {
      if (isDeleteMarker(node)) {
        if (inList) {
          const entry = Object.entries(node).find(([key]) => key !== "$patch");
          if (entry === undefined) {
            throw patchError(
              `$patch: delete in the list at ${formatPath(path.slice(0, -1))} needs a key to select the element`,
              {
                path: formatPath(path.slice(0, -1)),
              },
            );
          }
          selectors.push({
            doc: id,
            path: path.slice(0, -1),
            match: { key: entry[0], value: scalarText(entry[1]) },
          });
        } else {
          if (path.some((segment) => segment.startsWith("["))) {
            throw patchError(`cannot delete an inner key of a list element at ${formatPath(path)}`, {
              path: formatPath(path),
            });
          }
          selectors.push({ doc: id, path: [...path] });
        }
        return DELETE;
      }
      for (const key of Object.keys(node)) {
        const result = walk(node[key], [...path, key], false);
        if (result === DELETE) {
          delete node[key];
          if (Object.keys(node).length === 0) return DELETE;
        }
      }
      return node;
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const result = walk(node[i], [...path, `[${i}]`], true);
        if (result === DELETE) {
          node.splice(i, 1);
          i--;
          if (node.length === 0) return DELETE;
        }
      }
      return node;
    }
    return node;
  };

  const result = walk(doc, [], false);
  if (selectors.length > 0 && hasKind !== hasApiVersion) {
    throw patchError("kind and apiVersion must both be set in a document that uses $patch: delete", {
      document: id.kind,
    });
  }
  if (result === DELETE) return { selectors, rest: undefined };
  const meaningful = Object.keys(doc).some((key) => key !== "version" && key !== "kind" && key !== "name");
  return { selectors, rest: meaningful ? doc : undefined };
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Applies one delete selector to a document (in place).
 *
 * @returns `"document"` when the whole document must go.
 * @throws TalosConfigError `INVALID_PATCH` ("lookup failed") when the path or element does not exist.
 */
export function applyDeleteSelector(doc: PlainObject, selector: DeleteSelector): "document" | "done" {
  if (selector.path.length === 0) return "document";
  let node: unknown = doc;
  const path = selector.path;
  const last = selector.match === undefined ? path.length - 1 : path.length;
  for (let i = 0; i < last; i++) {
    const segment = path[i] as string;
    if (!isPlainObject(node) || node[segment] === undefined || node[segment] === null) {
      throw lookupFailed(selector);
    }
    node = node[segment];
  }
  if (selector.match === undefined) {
    const key = path[path.length - 1] as string;
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) throw lookupFailed(selector);
    delete node[key];
    return "done";
  }
  if (!Array.isArray(node)) throw lookupFailed(selector);
  const { key, value } = selector.match;
  const index = node.findIndex(
    (item) => isPlainObject(item) && item[key] !== undefined && scalarText(item[key]) === value,
  );
  if (index < 0) throw lookupFailed(selector);
  node.splice(index, 1);
  return "done";
}

function lookupFailed(selector: DeleteSelector): Error {
  const where = selector.match
    ? `${formatPath(selector.path)}[${selector.match.key}=…]`
    : formatPath(selector.path);
  return patchError(`patch delete: path '${where}' in document '${selector.doc.kind}': lookup failed`, {
    path: formatPath(selector.path),
    document: selector.doc.kind,
  });
}
